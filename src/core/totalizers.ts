import { formatDecimal, type Micros } from './money.ts'
import type { Receipt } from './receipt.ts'

/**
 * Running totals since the last closing of each period, kept on the queue so that a closing costs the
 * same whatever the size of the journal. Amounts are decimal strings to stay exact through JSON.
 */
export type Period = 'daily' | 'monthly' | 'yearly'
export const PERIODS: readonly Period[] = ['daily', 'monthly', 'yearly']

export interface PeriodTotals {
  since: string | null
  receipts: number
  gross: string
  /** gross per VAT rate, e.g. {"19.00": "119.00"} */
  byVatRate: Record<string, string>
  /** per pay item case low 16 bits in hex, e.g. {"0x0001": "50.00"} */
  byPayment: Record<string, string>
}

export type Totalizers = Record<Period, PeriodTotals> & { closings: Record<Period, number> }

const empty = (since: string | null): PeriodTotals => ({
  since,
  receipts: 0,
  gross: '0.00',
  byVatRate: {},
  byPayment: {},
})

export function newTotalizers(): Totalizers {
  return {
    daily: empty(null),
    monthly: empty(null),
    yearly: empty(null),
    closings: { daily: 0, monthly: 0, yearly: 0 },
  }
}

const toMicros = (text: string): Micros => {
  const [whole = '0', fraction = ''] = text.replace('-', '').split('.')
  const value = BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, '0') || '0')
  return text.startsWith('-') ? -value : value
}
const add = (a: string | undefined, b: Micros): string => formatDecimal(toMicros(a ?? '0') + b)

export function addReceipt(totals: Totalizers, receipt: Receipt, moment: string): void {
  for (const period of PERIODS) {
    const t = totals[period]
    t.since ??= moment
    t.receipts += 1
    t.gross = add(t.gross, receipt.total)
    for (const item of receipt.chargeItems) {
      const rate = formatDecimal(item.vatRate)
      t.byVatRate[rate] = add(t.byVatRate[rate], item.amount)
    }
    for (const item of receipt.payItems) {
      const kind = `0x${(item.caseCode & 0xffffn).toString(16).padStart(4, '0')}`
      t.byPayment[kind] = add(t.byPayment[kind], item.amount)
    }
  }
}

/** Ends a period: returns its totals with the closing's number and starts the next period empty. */
export function closePeriod(
  totals: Totalizers,
  period: Period,
  moment: string,
): PeriodTotals & { closingNumber: number } {
  const closed = { ...totals[period], closingNumber: totals.closings[period] + 1 }
  totals.closings[period] += 1
  totals[period] = empty(moment)
  return closed
}
