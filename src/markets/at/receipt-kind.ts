import { caseOf, hasFlag, ReceiptCase, ReceiptFlag, receiptType } from '../../core/case-codes.ts'
import type { Receipt } from '../../core/receipt.ts'

/**
 * The RKSV receipt kinds and how the POS System API v2 cases reach them. `unsigned` receipts (closings
 * other than monthly/yearly, log receipts, lifecycle steps other than start and stop) are no cash
 * receipts in the sense of the RKSV and carry no RKSV signature.
 */
export type AtReceiptKind =
  | 'start'
  | 'standard'
  | 'storno'
  | 'training'
  | 'null'
  | 'monthly'
  | 'yearly'
  | 'stop'
  | 'unsigned'

const NOT_FISCAL_SALE = 0x0003

export function receiptKind(receipt: Receipt): AtReceiptKind {
  const kind = caseOf(receipt.caseCode)
  const type = receiptType(receipt.caseCode)
  const training = hasFlag(receipt.caseCode, ReceiptFlag.Training)
  if (kind === ReceiptCase.StartReceipt) return 'start'
  if (kind === ReceiptCase.StopReceipt) return 'stop'
  if (kind === ReceiptCase.ZeroReceipt) return 'null'
  if (kind === ReceiptCase.MonthlyClosing) return 'monthly'
  if (kind === ReceiptCase.YearlyClosing) return 'yearly'
  if ((type === 0 && kind !== NOT_FISCAL_SALE) || type === 1) {
    if (training) return 'training'
    if (hasFlag(receipt.caseCode, ReceiptFlag.Void)) return 'storno'
    return 'standard'
  }
  return 'unsigned'
}

/** Receipts whose amounts are all zero by definition and that carry the counter's real value. */
export const isZeroKind = (kind: AtReceiptKind): boolean =>
  kind === 'start' || kind === 'null' || kind === 'monthly' || kind === 'yearly' || kind === 'stop'

export const KIND_NAMES: Record<Exclude<AtReceiptKind, 'unsigned'>, string> = {
  start: 'Startbeleg',
  standard: 'Beleg',
  storno: 'Stornobeleg',
  training: 'Trainingsbeleg',
  null: 'Nullbeleg',
  monthly: 'Monatsbeleg',
  yearly: 'Jahresbeleg',
  stop: 'Schlussbeleg',
}
