import { formatDecimal, includedVat, type Micros, parseDecimal } from '../../core/money.ts'
import type { Receipt } from '../../core/receipt.ts'
import type { Closing } from './documents.ts'

/**
 * Totals per VAT rate, as the signed payloads and the queue state carry them: decimal text (exact through
 * JSON), the rate as formatted by the core ("20.00", "5.50").
 */
export interface Totals {
  documents: number
  /** Gross (TTC) of all documents. */
  total: string
  /** Per VAT rate: gross (TTC), VAT and net (HT). */
  vat: Record<string, { gross: string; vat: string; net: string }>
}

/** The running totals of the open periods and the perpetual grand total, which never resets. */
export type GrandTotals = Record<Closing | 'perpetual', Totals>

export const emptyTotals = (): Totals => ({ documents: 0, total: '0.00', vat: {} })

export const emptyGrandTotals = (): GrandTotals => ({
  shift: emptyTotals(),
  day: emptyTotals(),
  month: emptyTotals(),
  year: emptyTotals(),
  perpetual: emptyTotals(),
})

const plus = (a: string, b: Micros) => formatDecimal(parseDecimal(a, 'total') + b)

/** The totals of one document. */
export function documentTotals(receipt: Receipt): Totals {
  const totals = emptyTotals()
  totals.documents = 1
  for (const item of receipt.chargeItems) {
    const vat = item.vatAmount ?? includedVat(item.amount, item.vatRate)
    addAmounts(totals, formatDecimal(item.vatRate), item.amount, vat)
  }
  return totals
}

function addAmounts(totals: Totals, rate: string, gross: Micros, vat: Micros): void {
  totals.total = plus(totals.total, gross)
  const line = (totals.vat[rate] ??= { gross: '0.00', vat: '0.00', net: '0.00' })
  line.gross = plus(line.gross, gross)
  line.vat = plus(line.vat, vat)
  line.net = plus(line.net, gross - vat)
}

/** Adds a document's totals into every running total (in place). */
export function raise(grand: GrandTotals, document: Totals): void {
  for (const totals of Object.values(grand)) {
    totals.documents += document.documents
    for (const [rate, line] of Object.entries(document.vat)) {
      addAmounts(totals, rate, parseDecimal(line.gross, 'gross'), parseDecimal(line.vat, 'vat'))
    }
  }
}

/** The periods a closing ends: a monthly closing also ends its last day, a yearly one its last month. */
const ENDS: Record<Closing, readonly Closing[]> = {
  shift: ['shift'],
  day: ['shift', 'day'],
  month: ['shift', 'day', 'month'],
  year: ['shift', 'day', 'month', 'year'],
}

/** Resets the periods a closing ends (in place). */
export function close(grand: GrandTotals, closing: Closing): void {
  for (const period of ENDS[closing]) grand[period] = emptyTotals()
}

/** A total as printed: "149.50 (4 documents)". */
export const summary = (totals: Totals): string =>
  `${totals.total} (${totals.documents} document${totals.documents === 1 ? '' : 's'})`
