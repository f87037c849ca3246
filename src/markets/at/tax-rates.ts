import type { Micros } from '../../core/money.ts'

/** Positions of the five RKSV tax sets in the machine-readable code. */
export const TAX_SET = { normal: 0, reduced1: 1, reduced2: 2, zero: 3, special: 4 } as const
export type TaxSet = (typeof TAX_SET)[keyof typeof TAX_SET]

/** An Austrian VAT rate (UStG 1994 § 10), the RKSV tax set it is booked in, and its first day (Vienna). */
export interface AtVatRate {
  rate: Micros
  set: TaxSet
  validFrom: string
}

/** 4_900_000n -> "4.9 %". */
export const ratePercent = (micros: Micros) => `${Number(micros) / 1_000_000} %`

/**
 * Dated data, not a fixed list: a new rate is one more row. 19 % is the normal rate of Jungholz and
 * Mittelberg (Erlass 3.3.4: Betrag-Satz-Besonders); 4.9 % for selected foods shares that set from
 * 1 July 2026 (BMF, announced in the A-SIT/BMF reference implementation's README of 13.03.2026).
 */
export const AT_VAT_RATES: readonly AtVatRate[] = [
  { rate: 20_000_000n, set: TAX_SET.normal, validFrom: '2016-01-01' },
  { rate: 10_000_000n, set: TAX_SET.reduced1, validFrom: '2016-01-01' },
  { rate: 13_000_000n, set: TAX_SET.reduced2, validFrom: '2016-01-01' },
  { rate: 0n, set: TAX_SET.zero, validFrom: '2016-01-01' },
  { rate: 19_000_000n, set: TAX_SET.special, validFrom: '2016-01-01' },
  { rate: 4_900_000n, set: TAX_SET.special, validFrom: '2026-07-01' },
]

export type RateLookup = { rate: AtVatRate } | { problem: string }

/** The row of a rate on a Vienna calendar day (yyyy-MM-dd), or why there is none. */
export function rateOn(rate: Micros, day: string, table = AT_VAT_RATES): RateLookup {
  const rows = table.filter((row) => row.rate === rate)
  const valid = rows.find((row) => row.validFrom <= day)
  if (valid) return { rate: valid }
  const first = rows.map((row) => row.validFrom).sort()[0]
  if (first)
    return {
      problem: `the Austrian rate ${ratePercent(rate)} applies from ${first} (the receipt is of ${day})`,
    }
  const known = [...new Set(table.filter((row) => row.validFrom <= day).map((row) => ratePercent(row.rate)))]
  return { problem: `an Austrian receipt of ${day} needs one of the rates ${known.join(', ')}` }
}
