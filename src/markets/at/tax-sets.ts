import { invalid } from '../../core/errors.ts'
import type { Micros } from '../../core/money.ts'
import type { ChargeItem } from '../../core/receipt.ts'
import type { TaxSetAmounts } from './machine-readable-code.ts'

/** Positions of the five RKSV tax sets in the machine-readable code. */
const NORMAL = 0
const REDUCED_1 = 1
const REDUCED_2 = 2
const ZERO = 3
const SPECIAL = 4

/** The Austrian rates since 2016, in micro-percent, for charge items whose VAT case does not name the set. */
const BY_RATE = new Map<bigint, number>([
  [20_000_000n, NORMAL],
  [10_000_000n, REDUCED_1],
  [13_000_000n, REDUCED_2],
  [0n, ZERO],
  [19_000_000n, SPECIAL],
])

/** ftChargeItemCase VAT nibble: 1 discounted-1, 2 discounted-2, 3 normal, 7 zero, 8 not taxable. */
const BY_VAT_CASE = new Map<number, number>([
  [1, REDUCED_1],
  [2, REDUCED_2],
  [3, NORMAL],
  [7, ZERO],
  [8, ZERO],
])

/** Which set a charge item belongs to; throws a 400 naming the item when no set fits. */
export function taxSetOf(item: ChargeItem, index: number): number {
  const vatCase = Number(item.caseCode & 0xfn)
  const nature = Number((item.caseCode >> 8n) & 0xffn)
  // Not taxable, not subject, exempt, reverse charge...: no Austrian VAT on this line.
  if (nature !== 0) return ZERO
  const byCase = BY_VAT_CASE.get(vatCase)
  if (byCase !== undefined) return byCase
  const byRate = BY_RATE.get(item.vatRate)
  if (byRate === undefined) {
    throw invalid(
      `cbChargeItems[${index}].VATRate`,
      'an Austrian receipt needs one of the rates 20, 10, 13, 0 or 19 % (or a VAT case in ftChargeItemCase: 0x..3 normal, 0x..1 discounted-1, 0x..2 discounted-2, 0x..7 zero, 0x..8 not taxable)',
    )
  }
  return byRate
}

/** Micro-units to cents, half away from zero. */
const toCents = (micros: Micros): bigint => {
  const negative = micros < 0n
  const abs = negative ? -micros : micros
  const cents = (abs + 5_000n) / 10_000n
  return negative ? -cents : cents
}

/** Gross amounts per tax set, in cents. */
export function taxSetAmounts(items: ChargeItem[]): TaxSetAmounts {
  const sums: Micros[] = [0n, 0n, 0n, 0n, 0n]
  items.forEach((item, i) => {
    const set = taxSetOf(item, i)
    sums[set] = (sums[set] ?? 0n) + item.amount
  })
  return sums.map(toCents) as unknown as TaxSetAmounts
}

export const isZero = (amounts: TaxSetAmounts): boolean => amounts.every((a) => a === 0n)
export const sumOf = (amounts: TaxSetAmounts): bigint => amounts.reduce((s, a) => s + a, 0n)
