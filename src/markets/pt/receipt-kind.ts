import {
  type CaseCode,
  caseOf,
  hasFlag,
  ReceiptCase,
  ReceiptFlag,
  receiptType,
} from '../../core/case-codes.ts'
import { invalid } from '../../core/errors.ts'
import type { Receipt } from '../../core/receipt.ts'
import type { PtDocumentType } from './ports.ts'

/**
 * What a Portuguese receipt makes (docs/country-pt.md):
 * - `document`: a document numbered in its series: a POS receipt is a simplified invoice (FS), an
 *   invoice case an invoice (FT), a refund of either a credit note (NC), all three signed; handwritten ones
 *   go to the manual series of their type; a payment transfer is a payment receipt (RG), not signed;
 * - `void`: cancels the document of the receipt it names (SAF-T status A), and takes no number;
 * - `none`: nothing fiscal (start, stop, zero and closing receipts, protocols, training).
 */
export type PtReceiptKind =
  | { kind: 'document'; documentType: PtDocumentType; manual: boolean }
  | { kind: 'void' }
  | { kind: 'none' }

const UNSUPPORTED: Record<number, string> = {
  0x0006: 'table checks (CM, working documents) are not issued by fiscalbox yet',
  0x0007: 'pro-forma and budget documents (PF, OR) are not issued by fiscalbox yet',
}

export function ptReceiptKind(receipt: Receipt): PtReceiptKind {
  const code = receipt.caseCode
  const kind = caseOf(code)
  const type = receiptType(code)
  if (hasFlag(code, ReceiptFlag.Training)) return { kind: 'none' }
  if (kind === ReceiptCase.PaymentTransfer) return paymentKind(code)
  const unsupported = UNSUPPORTED[kind]
  if (unsupported) throw invalid('ftReceiptCase', unsupported)
  const sale = kind === ReceiptCase.UnknownReceipt || kind === ReceiptCase.PosReceipt
  const invoice = type === 1 && kind <= 0x1003
  if (!sale && !invoice) {
    if (type === 0 && kind > 0x0007)
      throw invalid('ftReceiptCase', `has no Portuguese document for case 0x${kind.toString(16)}`)
    return { kind: 'none' }
  }
  const manual = hasFlag(code, ReceiptFlag.HandWritten)
  if (hasFlag(code, ReceiptFlag.Void)) {
    if (manual)
      throw invalid('ftReceiptCase', 'a void cancels a document of fiscalbox: it is not handwritten')
    return { kind: 'void' }
  }
  if (hasFlag(code, ReceiptFlag.Refund)) {
    if (manual)
      throw invalid(
        'ftReceiptCase',
        'handwritten credit notes are not supported: issue the credit note in fiscalbox',
      )
    return { kind: 'document', documentType: 'NC', manual: false }
  }
  return { kind: 'document', documentType: invoice ? 'FT' : 'FS', manual }
}

/** A payment transfer is a payment receipt (RG); a void cancels one, a refund or handwritten one has no RG. */
function paymentKind(code: CaseCode): PtReceiptKind {
  if (hasFlag(code, ReceiptFlag.Void)) return { kind: 'void' }
  if (hasFlag(code, ReceiptFlag.Refund) || hasFlag(code, ReceiptFlag.HandWritten))
    throw invalid(
      'ftReceiptCase',
      'a payment receipt (RG) is neither refunded nor handwritten: void it and issue a new one',
    )
  return { kind: 'document', documentType: 'RG', manual: false }
}
