import { caseOf, hasFlag, ReceiptCase, ReceiptFlag, receiptType } from '../../core/case-codes.ts'
import type { Receipt } from '../../core/receipt.ts'

/**
 * What an Italian receipt asks of the RT device:
 * - `document`: a documento commerciale (sale, delivery note, invoice), its return (`refund`) or its
 *   cancellation (`void`), both naming the original;
 * - `closing`: the Z report (daily closing; a monthly or yearly closing is a Z report too);
 * - `status`: the zero receipt reads the device's status;
 * - `nonFiscal`: a protocol receipt the POS asks to print as a non-fiscal document;
 * - `none`: nothing on the device (training, start and stop, the cases the law asks nothing of).
 */
export type ItReceiptKind =
  | { kind: 'document'; document: 'sale' | 'refund' | 'void'; customerLines: boolean }
  | { kind: 'closing' }
  | { kind: 'status' }
  | { kind: 'nonFiscal' }
  | { kind: 'none' }

/** IT local receipt flag (bits 32-43): print a protocol receipt (0x3000) as a non-fiscal document. */
export const PRINT_NON_FISCAL = 0x0000_0002_0000_0000n

const DOCUMENT_CASES = new Set([0x0000, 0x0001, 0x0005, 0x1000, 0x1001, 0x1002, 0x1003])
const CLOSINGS = new Set<number>([
  ReceiptCase.DailyClosing,
  ReceiptCase.MonthlyClosing,
  ReceiptCase.YearlyClosing,
])

export function itReceiptKind(receipt: Receipt): ItReceiptKind {
  const code = receipt.caseCode
  // Training receipts never reach the device as fiscal documents: the device would number them.
  if (hasFlag(code, ReceiptFlag.Training)) return { kind: 'none' }
  const kind = caseOf(code)
  if (CLOSINGS.has(kind)) return { kind: 'closing' }
  if (kind === ReceiptCase.ZeroReceipt) return { kind: 'status' }
  if (kind === 0x3000 && hasFlag(code, PRINT_NON_FISCAL)) return { kind: 'nonFiscal' }
  if (!DOCUMENT_CASES.has(kind)) return { kind: 'none' }
  // An invoice or delivery note prints the customer's name and address above the lines.
  const customerLines = kind === 0x0005 || receiptType(code) === 1
  if (hasFlag(code, ReceiptFlag.Void)) return { kind: 'document', document: 'void', customerLines }
  // The POS System API document's Italian refund example names its original and has a negative total
  // but not the refund flag (its 0x0010_0000 is IssuerIsSmallBusiness): it is a return all the same.
  const returned =
    hasFlag(code, ReceiptFlag.Refund) || (receipt.total < 0n && receipt.previousReference !== undefined)
  return { kind: 'document', document: returned ? 'refund' : 'sale', customerLines }
}
