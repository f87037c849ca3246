import { invalid } from '../../../core/errors.ts'
import { MICROS_SCALE } from '../../../core/money.ts'
import type { ChargeItem, PayItem } from '../../../core/receipt.ts'
import { type KassenbelegPayment, type PaymentKind, toCents } from '../dsfinvk/kassenbeleg.ts'

/**
 * From POS System API items to DSFinV-K: charge items to the five processData rate buckets and the
 * UST_SCHLUESSEL of the export, pay items to Bar/Unbar.
 */

/** UST_SCHLUESSEL (DSFinV-K): 1 19 %, 2 7 %, 3 10.7 %, 4 5.5 %, 5 not taxable, 6 tax free (0 %). */
export type VatKey = 1 | 2 | 3 | 4 | 5 | 6

/** Index of each VAT key's bucket in processData (19, 7, 10.7, 5.5, 0). */
export const BUCKET_OF: Record<VatKey, number> = { 1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 6: 4 }
/** Rates in basis points, for net amounts. */
export const BASIS_POINTS: Record<VatKey, bigint> = { 1: 1900n, 2: 700n, 3: 1070n, 4: 550n, 5: 0n, 6: 0n }
export const VAT_KEYS: VatKey[] = [1, 2, 3, 4, 5, 6]
export const VAT_DESCRIPTIONS: Record<VatKey, string> = {
  1: 'Regelsteuersatz',
  2: 'Ermäßigter Steuersatz',
  3: 'Durchschnittsatz (§ 24 Abs. 1 Nr. 3 UStG) übrige Fälle',
  4: 'Durchschnittsatz (§ 24 Abs. 1 Nr. 1 UStG)',
  5: 'Nicht Steuerbar',
  6: 'Umsatzsteuerfrei',
}

/** VATRate (percent, micros) of the German rates, for charge items of unknown VAT case. */
const BY_RATE: Array<[bigint, VatKey]> = [
  [19_000_000n, 1],
  [7_000_000n, 2],
  [10_700_000n, 3],
  [5_500_000n, 4],
  [0n, 5],
]

/**
 * The VAT nibble of ftChargeItemCase: 3 normal (19 %), 1 discounted-1 (7 %), 4 super-reduced-1 (10.7 %),
 * 2 discounted-2 (5.5 %), 7 zero (tax free), 8 not taxable; 0 (unknown) goes by VATRate. 5 and 6 have no
 * German rate.
 */
export function vatKeyOf(item: ChargeItem, field: string): VatKey {
  const nibble = Number(item.caseCode & 0xfn)
  switch (nibble) {
    case 3:
      return 1
    case 1:
      return 2
    case 4:
      return 3
    case 2:
      return 4
    case 7:
      return 6
    case 8:
      return 5
    case 0: {
      const found = BY_RATE.find(([rate]) => rate === item.vatRate)
      if (found) return found[1]
      throw invalid(
        `${field}.VATRate`,
        'must be a German rate (19, 7, 10.7, 5.5 or 0) when ftChargeItemCase leaves the VAT case unknown',
      )
    }
    default:
      throw invalid(
        `${field}.ftChargeItemCase`,
        `VAT case ${nibble} has no German rate: use 3 normal (19 %), 1 discounted-1 (7 %), 4 (10.7 %), 2 (5.5 %), 7 zero or 8 not taxable`,
      )
  }
}

/** GV_TYP (DSFinV-K business case) of a charge item from its service type and flags. */
export function businessCaseOf(item: ChargeItem): string {
  const service = Number((item.caseCode >> 4n) & 0xfn)
  const negative = item.amount < 0n
  if ((item.caseCode & 0x4_0000n) !== 0n) return negative ? 'Rabatt' : 'Aufschlag'
  if ((item.caseCode & 0x10_0000n) !== 0n) return negative ? 'PfandRueckzahlung' : 'Pfand'
  if ((item.caseCode & 0x8_0000n) !== 0n) return 'Anzahlungseinstellung'
  if (service === 0x3) return 'TrinkgeldAN'
  if (service === 0x4) return 'MehrzweckgutscheinKauf'
  if (service === 0xa) return 'Geldtransit'
  return 'Umsatz'
}

/** Bar for cash (and unknown, the POS default, and change); every other means of payment is Unbar. */
export function paymentKindOf(item: PayItem): PaymentKind {
  const means = Number(item.caseCode & 0xffn)
  return means === 0x00 || means === 0x01 || (item.caseCode & 0x20_0000n) !== 0n ? 'Bar' : 'Unbar'
}

export const centsOf = (micros: bigint): bigint => toCents(micros, MICROS_SCALE)

/**
 * A pay item in another currency (Currency, e.g. CHF) carries its value in EUR as Amount (it counts toward
 * the receipt's total) and the amount paid in that currency as Quantity.
 */
export function paymentOf(item: PayItem): KassenbelegPayment & { baseCents: bigint; name: string } {
  const currency = item.currency ?? 'EUR'
  const baseCents = centsOf(item.amount)
  const cents = currency === 'EUR' ? baseCents : centsOf(item.quantity)
  return { kind: paymentKindOf(item), currency, cents, baseCents, name: item.description }
}

/** processData payments: summed per means and currency, in order of first appearance. */
export function paymentsForProcessData(items: PayItem[]): KassenbelegPayment[] {
  const sums = new Map<string, KassenbelegPayment>()
  for (const item of items) {
    const p = paymentOf(item)
    const key = `${p.kind}:${p.currency}`
    const sum = sums.get(key)
    if (sum) sum.cents += p.cents
    else sums.set(key, { kind: p.kind, currency: p.currency, cents: p.cents })
  }
  return [...sums.values()]
}

/** Net of a gross amount at a rate in basis points, rounded half away from zero to cents. */
export function netOf(grossCents: bigint, basisPoints: bigint): bigint {
  if (basisPoints === 0n) return grossCents
  const numerator = grossCents * 10_000n
  const denominator = 10_000n + basisPoints
  const abs = numerator < 0n ? -numerator : numerator
  const rounded = (abs * 2n + denominator) / (2n * denominator)
  return numerator < 0n ? -rounded : rounded
}
