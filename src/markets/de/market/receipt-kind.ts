import { caseOf, hasFlag, ReceiptCase, ReceiptFlag, receiptType } from '../../../core/case-codes.ts'
import type { Receipt } from '../../../core/receipt.ts'

/**
 * What a receipt case means to the German market. The explicit-flow log receipts are numbered by
 * fiscalbox in the log range (0x3008-0x300B: the reference names the four operations but gives them no
 * v2 numbers; v1 used 0x0008-0x000B): see docs/country-de.md.
 */
export type DeReceiptKind =
  | 'start'
  | 'stop'
  | 'zero'
  | 'daily-closing'
  | 'other-closing'
  | 'tx-start'
  | 'tx-update'
  | 'tx-delta'
  | 'tx-fail'
  | 'sale'
  | 'other'

export const DE_CASE = {
  startTransaction: 0x3008,
  updateTransaction: 0x3009,
  deltaTransaction: 0x300a,
  failTransaction: 0x300b,
} as const

/** DE local flag 0x001 (bit 32): the implicit flow, start and finish of the TSS transaction in one request. */
export const IMPLICIT_FLOW = 0x1_0000_0000n

export function deReceiptKind(receipt: Receipt): DeReceiptKind {
  const kind = caseOf(receipt.caseCode)
  switch (kind) {
    case ReceiptCase.StartReceipt:
      return 'start'
    case ReceiptCase.StopReceipt:
      return 'stop'
    case ReceiptCase.ZeroReceipt:
      return 'zero'
    case ReceiptCase.DailyClosing:
      return 'daily-closing'
    case ReceiptCase.ShiftClosing:
    case ReceiptCase.MonthlyClosing:
    case ReceiptCase.YearlyClosing:
      return 'other-closing'
    case DE_CASE.startTransaction:
      return 'tx-start'
    case DE_CASE.updateTransaction:
      return 'tx-update'
    case DE_CASE.deltaTransaction:
      return 'tx-delta'
    case DE_CASE.failTransaction:
      return 'tx-fail'
  }
  const type = receiptType(receipt.caseCode)
  return type === 0 || type === 1 ? 'sale' : 'other'
}

/** BON_TYP of DSFinV-K: training and void flags override the type (AVTraining, AVBelegstorno). */
export function bonTypOf(receipt: Receipt, kind: DeReceiptKind): string {
  if (hasFlag(receipt.caseCode, ReceiptFlag.Training)) return 'AVTraining'
  if (hasFlag(receipt.caseCode, ReceiptFlag.Void)) return 'AVBelegstorno'
  if (kind === 'tx-fail') return 'AVBelegabbruch'
  if (kind !== 'sale') return 'AVSonstige'
  const low = caseOf(receipt.caseCode)
  if (low === 0x0005) return 'AVTransfer' // delivery note
  if (low === 0x0007) return 'AVRechnung' // pro-forma
  return 'Beleg'
}

export const isImplicit = (receipt: Receipt): boolean => hasFlag(receipt.caseCode, IMPLICIT_FLOW)
