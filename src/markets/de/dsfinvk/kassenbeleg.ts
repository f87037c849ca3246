/**
 * processData of a DSFinV-K receipt (processType Kassenbeleg-V1):
 * `{BON_TYP}^{19 %}_{7 %}_{10.7 %}_{5.5 %}_{0 %}^{amount}:{Bar|Unbar}[:{currency}]_...`. The five gross
 * amounts always appear, in this fixed order, with exactly two decimals; the currency is left out for EUR.
 * Both the SIGN DE API (standard_v1 receipts) and the DE market on /v2/sign build it here.
 */

export const KASSENBELEG_V1 = 'Kassenbeleg-V1'

/** The five DSFinV-K rate buckets of processData, in their fixed order, with their percentages. */
export const RATE_BUCKETS = [
  { name: 'NORMAL', percent: '19.00' },
  { name: 'REDUCED_1', percent: '7.00' },
  { name: 'SPECIAL_RATE_1', percent: '10.70' },
  { name: 'SPECIAL_RATE_2', percent: '5.50' },
  { name: 'NULL', percent: '0.00' },
] as const

export type PaymentKind = 'Bar' | 'Unbar'

export interface KassenbelegPayment {
  kind: PaymentKind
  /** Cents in the payment's currency. */
  cents: bigint
  /** ISO 4217; EUR is the base currency and is not written. */
  currency: string
}

/** Cents as "12.34" / "-0.05". */
export function formatCents(cents: bigint): string {
  const abs = cents < 0n ? -cents : cents
  return `${cents < 0n ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`
}

/** An exact amount in units of 10^-scale, rounded half away from zero to cents. */
export function toCents(value: bigint, scale: number): bigint {
  if (scale <= 2) return value * 10n ** BigInt(2 - scale)
  const divisor = 10n ** BigInt(scale - 2)
  const abs = value < 0n ? -value : value
  const rounded = (abs + divisor / 2n) / divisor
  return value < 0n ? -rounded : rounded
}

export function kassenbelegV1(
  bonTyp: string,
  grossCents: readonly bigint[],
  payments: readonly KassenbelegPayment[],
): string {
  if (grossCents.length !== RATE_BUCKETS.length) throw new Error('Kassenbeleg-V1 needs five gross amounts')
  const gross = grossCents.map(formatCents).join('_')
  const paid = payments
    .map((p) => `${formatCents(p.cents)}:${p.kind}${p.currency === 'EUR' ? '' : `:${p.currency}`}`)
    .join('_')
  return `${bonTyp}^${gross}^${paid}`
}
