/**
 * The QR code of a Portuguese document (Portaria 195/2020): `key:value` fields joined by `*` in the order
 * A to S. Optional fields without a value, and amounts that are zero, are left out.
 */
export type QrFields = Partial<Record<QrKey, string>>

const ORDER = [
  'A',
  'B',
  'C',
  'D',
  'E',
  'F',
  'G',
  'H',
  'I1',
  'I2',
  'I3',
  'I4',
  'I5',
  'I6',
  'I7',
  'I8',
  'J1',
  'J2',
  'J3',
  'J4',
  'J5',
  'J6',
  'J7',
  'J8',
  'K1',
  'K2',
  'K3',
  'K4',
  'K5',
  'K6',
  'K7',
  'K8',
  'L',
  'M',
  'N',
  'O',
  'P',
  'Q',
  'R',
  'S',
] as const
export type QrKey = (typeof ORDER)[number]

/** Amount fields the law lets a document leave out when they are zero. */
const OPTIONAL_AMOUNTS = new Set<QrKey>([
  'I2',
  'I3',
  'I4',
  'I5',
  'I6',
  'I7',
  'I8',
  'J2',
  'J3',
  'J4',
  'J5',
  'J6',
  'J7',
  'J8',
  'K2',
  'K3',
  'K4',
  'K5',
  'K6',
  'K7',
  'K8',
  'L',
  'M',
  'P',
])

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
