import {
  type DocumentReference,
  type FiscalReceiptStep,
  parseReferenceLine,
  REFERENCE_MESSAGE_TYPE,
  type Step,
} from '../fpmate/index.ts'
import { isCodiceFiscale, isLotteryCode, isPartitaIva } from '../tax-ids.ts'
import { DeviceRefusal } from './refusal.ts'
import type { JournalDocument, JournalLine, JournalPayment } from './state.ts'

/** A fiscal receipt the device accepted, before it gets its number and moment. */
export type DraftDocument = Omit<JournalDocument, 'zNumber' | 'documentNumber' | 'moment'>

// Item adjustment types: the discounts and the one surcharge the published clients send.
const ITEM_DISCOUNTS = new Set([0, 3, 10, 11, 12])
const ITEM_SURCHARGES = new Set([5])
// Subtotal adjustments: 1/2 discount with/without the subtotal printed, 6/7 the same for a surcharge.
const SUBTOTAL_DISCOUNTS = new Set([1, 2])
const SUBTOTAL_SURCHARGES = new Set([6, 7])
const LINE_KINDS = { SALE: 'printRecItem', REFUND: 'printRecRefund', VOID: 'printRecVoid' } as const
const LAST_PAYMENT_TYPE = 6
const LAST_CARD_INDEX = 10
/** The largest amount the device holds: the nine digits of its registers (9,999,999.99). */
const MAX_AMOUNT = 999_999_999

// Where a step may come: header (before begin), lines, subtotal, payment, closed (after end).
type Phase = 'header' | 'lines' | 'subtotal' | 'payment' | 'closed'
const ORDER: Phase[] = ['header', 'lines', 'subtotal', 'payment', 'closed']

/**
 * Checks a printerFiscalReceipt as the firmware does (order of the commands, values, totals and
 * payments, lottery code and customer tax id checksums) and computes what it would print. A return or
 * void is announced by its reference line (messageType 4) before any line; the document's lines must
 * then be printRecRefund / printRecVoid. Throws DeviceRefusal.
 */
export function readFiscalReceipt(
  steps: readonly FiscalReceiptStep[],
  vatRateOf: (department: number) => number,
): DraftDocument {
  let phase: Phase = 'header'
  let reference: DocumentReference | undefined
  const enter = (next: Phase, what: string) => {
    // A return or void may start with its reference line instead of beginFiscalReceipt.
    if (phase === 'header' && !reference) throw new DeviceRefusal(11, `${what} before beginFiscalReceipt`)
    if (ORDER.indexOf(next) < ORDER.indexOf(phase))
      throw new DeviceRefusal(11, `${what} is not allowed after the ${phase} part of the document`)
    phase = next
  }
  const lines: JournalLine[] = []
  const adjustments: DraftDocument['adjustments'] = []
  const payments: JournalPayment[] = []
  let lotteryCode: string | undefined
  let customerId: string | undefined
  let vat = 0

  for (const step of steps) {
    if (phase === 'closed') throw new DeviceRefusal(11, `${step.kind} after endFiscalReceipt`)
    switch (step.kind) {
      case 'beginFiscalReceipt':
        if (phase !== 'header') throw new DeviceRefusal(11, 'a second beginFiscalReceipt')
        phase = 'lines'
        break
      case 'printRecMessage': {
        if (step.messageType < 1 || step.messageType > 6)
          throw new DeviceRefusal(13, `printRecMessage messageType must be 1 to 6, got ${step.messageType}`)
        const found =
          step.messageType === REFERENCE_MESSAGE_TYPE ? parseReferenceLine(step.message) : undefined
        if (found) {
          if (reference || lines.length > 0)
            throw new DeviceRefusal(11, 'the REFUND/VOID reference line must come once, before any line')
          reference = found
        }
        break
      }
      case 'displayText':
        break
      case 'printRecItem':
      case 'printRecRefund':
      case 'printRecVoid': {
        enter('lines', step.kind)
        const type = reference?.kind ?? 'SALE'
        if (step.kind !== LINE_KINDS[type])
          throw new DeviceRefusal(
            11,
            `${step.kind} in a ${type} document (its lines are ${LINE_KINDS[type]})`,
          )
        const line = lineOf(step)
        lines.push(line)
        vat += vatOf(line.amount, vatRateOf(line.department))
        break
      }
      case 'printRecVoidItem': {
        enter('lines', step.kind)
        const line = lineOf(step)
        lines.push({ ...line, amount: -line.amount })
        vat -= vatOf(line.amount, vatRateOf(line.department))
        break
      }
      case 'printRecItemAdjustment': {
        enter('lines', step.kind)
        if (lines.length === 0) throw new DeviceRefusal(11, 'printRecItemAdjustment before any item')
        const sign = signOf(step.adjustmentType, ITEM_DISCOUNTS, ITEM_SURCHARGES, step.kind)
        adjustments.push({
          description: step.description,
          amount: sign * nonNegative(step.amount, step.kind),
        })
        break
      }
      case 'printRecSubtotalAdjustment': {
        enter('subtotal', step.kind)
        const sign = signOf(step.adjustmentType, SUBTOTAL_DISCOUNTS, SUBTOTAL_SURCHARGES, step.kind)
        adjustments.push({
          description: step.description,
          amount: sign * nonNegative(step.amount, step.kind),
        })
        break
      }
      case 'printRecSubtotal':
        enter('subtotal', step.kind)
        break
      case 'printRecLotteryID':
        enter('payment', step.kind)
        if (lotteryCode) throw new DeviceRefusal(11, 'a second printRecLotteryID')
        if (!isLotteryCode(step.code)) throw new DeviceRefusal(30, `lottery code ${step.code} is not valid`)
        lotteryCode = step.code
        break
      case 'printRecTotal':
        enter('payment', step.kind)
        if (step.paymentType < 0 || step.paymentType > LAST_PAYMENT_TYPE)
          throw new DeviceRefusal(13, `printRecTotal paymentType must be 0 to ${LAST_PAYMENT_TYPE}`)
        if ((step.index ?? 0) < 0 || (step.index ?? 0) > LAST_CARD_INDEX)
          throw new DeviceRefusal(13, `printRecTotal index must be 0 to ${LAST_CARD_INDEX}`)
        payments.push({
          paymentType: step.paymentType,
          index: step.index ?? 0,
          amount: nonNegative(step.payment, step.kind),
          ...(step.description === undefined ? {} : { description: step.description }),
        })
        break
      case 'directIO':
        if (phase === 'header') throw new DeviceRefusal(11, 'directIO before beginFiscalReceipt')
        if (customerId) throw new DeviceRefusal(11, 'a second customer tax id')
        customerId = customerIdOf(step)
        break
      case 'endFiscalReceipt':
        if (phase === 'header') throw new DeviceRefusal(11, 'endFiscalReceipt without beginFiscalReceipt')
        phase = 'closed'
        break
    }
  }
  if (phase !== 'closed')
    throw new DeviceRefusal(0, 'the document has no endFiscalReceipt', 'INCOMPLETE FILE')
  if (lines.length === 0) throw new DeviceRefusal(11, 'a document without lines')
  if (payments.length === 0) throw new DeviceRefusal(11, 'a document without printRecTotal')
  const linesTotal = lines.reduce((sum, line) => sum + line.amount, 0)
  const amount = linesTotal + adjustments.reduce((sum, adjustment) => sum + adjustment.amount, 0)
  if (amount < 0) throw new DeviceRefusal(13, `the document's total would be negative (${amount} cents)`)
  if (amount > MAX_AMOUNT) throw new DeviceRefusal(20, "the document's total is above the device's maximum")
  const paid = payments.reduce((sum, payment) => sum + payment.amount, 0)
  if (paid < amount)
    throw new DeviceRefusal(13, `payments of ${paid} cents do not cover the total of ${amount}`)
  return {
    type: reference?.kind ?? 'SALE',
    amount,
    // Adjustments reduce or raise the VAT in proportion (the device spreads them over the rates).
    vat: linesTotal > 0 ? Math.round((vat * amount) / linesTotal) : 0,
    lines,
    adjustments,
    payments,
    ...(reference ? { reference } : {}),
    ...(lotteryCode ? { lotteryCode } : {}),
    ...(customerId ? { customerId } : {}),
  }
}

type LineStep = Step<'printRecItem' | 'printRecRefund' | 'printRecVoid' | 'printRecVoidItem'>

function lineOf(step: LineStep): JournalLine {
  if (step.quantity <= 0) throw new DeviceRefusal(13, `${step.kind} quantity must be above 0`)
  if (step.department < 1 || step.department > 99)
    throw new DeviceRefusal(13, `${step.kind} department must be 1 to 99, got ${step.department}`)
  const unitPrice = nonNegative(step.unitPrice, step.kind)
  const given = 'amount' in step ? step.amount : undefined
  const amount = given ?? Math.round((step.quantity * unitPrice) / 1000)
  if (amount > MAX_AMOUNT) throw new DeviceRefusal(20, `${step.kind} amount is above the device's maximum`)
  return {
    description: step.description,
    quantity: step.quantity,
    unitPrice,
    amount,
    department: step.department,
  }
}

function nonNegative(cents: number, kind: string): number {
  if (cents < 0) throw new DeviceRefusal(13, `${kind} amounts are written without a sign`)
  return cents
}

function signOf(type: number, discounts: Set<number>, surcharges: Set<number>, kind: string): number {
  if (discounts.has(type)) return -1
  if (surcharges.has(type)) return 1
  throw new DeviceRefusal(16, `${kind} adjustmentType ${type} is not one this device knows`)
}

/** VAT included in a gross amount at a rate in percent, rounded to the cent. */
const vatOf = (gross: number, rate: number) => Math.round((gross * rate) / (100 + rate))

// directIO inside a receipt: 1060 partita IVA, 1061 codice fiscale, data "01" + the id.
function customerIdOf(step: Step<'directIO'>): string {
  const id = step.data.slice(2)
  if (step.command === '1060') {
    if (!isPartitaIva(id)) throw new DeviceRefusal(30, `partita IVA ${id} fails its check digit`)
    return id
  }
  if (step.command === '1061') {
    if (!isCodiceFiscale(id)) throw new DeviceRefusal(30, `codice fiscale ${id} fails its check letter`)
    return id
  }
  throw new DeviceRefusal(16, `directIO ${step.command} is not expected inside a fiscal receipt`)
}
