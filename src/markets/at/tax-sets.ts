import { invalid } from '../../core/errors.ts'
import type { Micros } from '../../core/money.ts'
import type { ChargeItem } from '../../core/receipt.ts'
import type { TaxSetAmounts } from './machine-readable-code.ts'
import { rateOn, ratePercent, TAX_SET, type TaxSet } from './tax-rates.ts'

/**
 * ftChargeItemCase VAT nibble -> the rates it names: 1 discounted-1, 2 discounted-2, 3 normal (20 %, or
 * 19 % where that is the normal rate), 7 zero, 8 not taxable. Cases 0 (unknown) and 4-6 (super-reduced,
 * parking) leave the set to the rate.
 */
const RATES_OF_VAT_CASE = new Map<number, { rates: readonly Micros[]; name: string }>([
  [1, { rates: [10_000_000n], name: 'discounted-1: 10 %' }],
  [2, { rates: [13_000_000n], name: 'discounted-2: 13 %' }],
  [3, { rates: [20_000_000n, 19_000_000n], name: 'normal: 20 %, or 19 % in Jungholz and Mittelberg' }],
  [7, { rates: [0n], name: 'zero: 0 %' }],
  [8, { rates: [0n], name: 'not taxable: 0 %' }],
])

/**
 * Which set a charge item belongs to on a Vienna calendar day: the rate decides, and it must be valid on
 * that day and agree with the VAT case; otherwise a 400 naming the item.
 */
export function taxSetOf(item: ChargeItem, index: number, day: string): TaxSet {
  const vatCase = Number(item.caseCode & 0xfn)
  const nature = Number((item.caseCode >> 8n) & 0xffn)
  // Not taxable, not subject, exempt, reverse charge...: no Austrian VAT on this line.
  if (nature !== 0) return TAX_SET.zero
  const field = `cbChargeItems[${index}].VATRate`
  const found = rateOn(item.vatRate, day)
  if ('problem' in found) throw invalid(field, found.problem)
  const byCase = RATES_OF_VAT_CASE.get(vatCase)
  if (byCase && !byCase.rates.includes(item.vatRate)) {
    throw invalid(
      field,
      `${ratePercent(item.vatRate)} contradicts the VAT case 0x..${vatCase} of ftChargeItemCase (${byCase.name}): send the rate of the case, or the case of the rate`,
    )
  }
  return found.rate.set
}

/** Micro-units to cents, half away from zero. */
const toCents = (micros: Micros): bigint => {
  const negative = micros < 0n
  const abs = negative ? -micros : micros
  const cents = (abs + 5_000n) / 10_000n
  return negative ? -cents : cents
}

/** Gross amounts per tax set, in cents, for a receipt of the given Vienna calendar day (yyyy-MM-dd). */
export function taxSetAmounts(items: ChargeItem[], day: string): TaxSetAmounts {
  const sums: Micros[] = [0n, 0n, 0n, 0n, 0n]
  items.forEach((item, i) => {
    const set = taxSetOf(item, i, day)
    sums[set] = (sums[set] ?? 0n) + item.amount
  })
  return sums.map(toCents) as unknown as TaxSetAmounts
}

export const isZero = (amounts: TaxSetAmounts): boolean => amounts.every((a) => a === 0n)
export const sumOf = (amounts: TaxSetAmounts): bigint => amounts.reduce((s, a) => s + a, 0n)
