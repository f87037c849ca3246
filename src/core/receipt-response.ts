import { type CaseCode, type CaseCodeForm, caseCodeIn, formatCaseCode } from './case-codes.ts'
import { exactJson } from './exact-json.ts'
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

const CODE = /^0x[0-9A-F]{16}$/

/**
 * A stored ReceiptResponse (hex case codes, as the journal keeps it) written in the client's form: with
 * 'number', ftState and each signature's ftSignatureFormat and ftSignatureType become JSON numbers of
 * their exact digits. Everything else, field order included, stays as stored.
 */
export function receiptResponseIn(form: CaseCodeForm, stored: string): string {
  if (form === 'hex') return stored
  const response = JSON.parse(stored) as Record<string, unknown>
  const asNumber = (value: unknown): unknown =>
    typeof value === 'string' && CODE.test(value) ? caseCodeIn(form, BigInt(value)) : value
  response.ftState = asNumber(response.ftState)
  if (Array.isArray(response.ftSignatures)) {
    response.ftSignatures = response.ftSignatures.map((signature: Record<string, unknown>) => ({
      ...signature,
      ftSignatureFormat: asNumber(signature.ftSignatureFormat),
      ftSignatureType: asNumber(signature.ftSignatureType),
    }))
  }
  return exactJson(response)
}
