import { type CaseCode, formatCaseCode } from './case-codes.ts'
import type { SignatureItem } from './market.ts'

/** The v2 ReceiptResponse, in the reference's field order; case codes travel as hex strings. */
export interface ReceiptResponseParts {
  queueId: string
  queueItemId: string
  queueRow: number
  cashboxId: string
  /** ftCashBoxIdentification; the queue id unless the market names another */
  cashBoxIdentification?: string
  terminalId: string | undefined
  receiptReference: string
  receiptIdentification: string
  moment: Date
  signatures: SignatureItem[]
  state: CaseCode
  stateData?: unknown
}

export function serializeReceiptResponse(p: ReceiptResponseParts): string {
  return JSON.stringify({
    ftQueueID: p.queueId,
    ftQueueItemID: p.queueItemId,
    ftQueueRow: p.queueRow,
    ftCashBoxIdentification: p.cashBoxIdentification ?? p.queueId,
    ftCashBoxID: p.cashboxId,
    cbTerminalID: p.terminalId ?? '',
    cbReceiptReference: p.receiptReference,
    ftReceiptIdentification: p.receiptIdentification,
    ftReceiptMoment: p.moment.toISOString(),
    ftSignatures: p.signatures.map((s) => ({
      ftSignatureFormat: formatCaseCode(s.ftSignatureFormat),
      ftSignatureType: formatCaseCode(s.ftSignatureType),
      Caption: s.Caption,
      Data: s.Data,
    })),
    ftState: formatCaseCode(p.state),
    ftStateData: p.stateData,
  })
}
