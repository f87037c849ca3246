/**
 * The QR code of a Portuguese document (Portaria 195/2020): `key:value` fields joined by `*` in the order
 * A to S. Optional fields without a value, and amounts that are zero, are left out.
 */
export type QrFields = Partial<Record<string, string>>

/** I1-I8, J1-J8, K1-K8: the VAT blocks of up to three tax regions. */
const block = (region: string) => Array.from({ length: 8 }, (_, i) => `${region}${i + 1}`)
const ORDER = [
  ...['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'],
  ...block('I'),
  ...block('J'),
  ...block('K'),
  ...['L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S'],
]

/** Amount fields the law lets a document leave out when they are zero: I2-I8, J2-J8, K2-K8, L, M, P. */
const OPTIONAL_AMOUNTS = new Set(ORDER.filter((key) => /^([IJK][2-8]|[LMP])$/.test(key)))

const isZero = (value: string) => /^0+(\.0+)?$/.test(value)

export function qrString(fields: QrFields): string {
  const parts: string[] = []
  for (const key of ORDER) {
    const value = fields[key]
    if (value === undefined || value === '') continue
    if (OPTIONAL_AMOUNTS.has(key) && isZero(value)) continue
    parts.push(`${key}:${value}`)
  }
  return parts.join('*')
}
