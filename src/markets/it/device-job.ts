import { formatDecimal } from '../../core/money.ts'
import type { DocumentReference, FpmateResponse, LastDocument } from './fpmate/index.ts'
import type { ItDocument, ItDocumentKind } from './ports.ts'
import type { PrintedDocument } from './signatures.ts'

/**
 * What seal() hands to the device call (the reservation's unit request): where the device is, the XML
 * to post, and what the answer is read for. A document carries what recovery compares with the device's
 * last document and what its signatures print besides the device's numbers.
 */
export interface DeviceJob {
  url: string
  timeoutMs: number
  expect: 'document' | 'closing' | 'status' | 'nonFiscal'
  xml: string
  document?: {
    kind: ItDocumentKind
    totalCents: number
    reference?: DocumentReference
    customerId?: string
    lotteryCode?: string
  }
  /**
   * A zero receipt of a cash box in failed mode with receipts held: once the device answers the status
   * read, they are sent in order (resend.ts) for as long as this budget leaves room for one more.
   */
  resend?: { budgetMs: number }
}

/** A held receipt as the zero receipt's resend settled it (the zero receipt's ftStateData.HeldReceipts). */
export interface ResendReport {
  printed: {
    receiptNumber: number
    receiptReference: string
    serialNumber: string
    zNumber: number
    documentNumber: number
    moment: string
  }[]
  refused: { receiptNumber: number; receiptReference: string; error: string }[]
  /** still held for the next zero receipt */
  waiting: number
}

/**
 * What became of the call: the device's answer, or, when none came, what reading back its last document
 * (directIO 1387) showed.
 * - printed: no answer, but the device's last document is this one (numbers beyond the cash box's last
 *   recorded document, same total);
 * - notPrinted: no answer, and the device's last document is an earlier one: nothing was printed;
 * - unreachable: the request never reached the device;
 * - unconfirmed: sent, no answer, and a closing or status read cannot be read back;
 * - unknown: sent, no answer, and the last document could not be read either: only the device knows.
 */
export type DeviceOutcome =
  | { type: 'answered'; response: FpmateResponse }
  | { type: 'printed'; document: LastDocument }
  | { type: 'notPrinted'; reason: string }
  | { type: 'unreachable'; reason: string }
  | { type: 'unconfirmed'; reason: string }
  | { type: 'unknown'; reason: string }

/** The unit's answer as the core stores it: the job (without its XML) and its outcome. */
export interface DeviceAnswer {
  job: Omit<DeviceJob, 'xml'>
  outcome: DeviceOutcome
  /** when the device last answered anything, for device_not_reachable */
  lastContact?: string
  /** a zero receipt's resend of the held receipts */
  resend?: ResendReport
}

export const parseJob = (request: string): DeviceJob => JSON.parse(request) as DeviceJob

export function answerText(
  job: DeviceJob,
  outcome: DeviceOutcome,
  lastContact?: string,
  resend?: ResendReport,
): string {
  // The XML stays in the reservation: the answer keeps only what complete() reads.
  const { url, timeoutMs, expect, document } = job
  const answer: DeviceAnswer = {
    job: {
      url,
      timeoutMs,
      expect,
      ...(document ? { document } : {}),
      ...(job.resend ? { resend: job.resend } : {}),
    },
    outcome,
    ...(lastContact ? { lastContact } : {}),
    ...(resend ? { resend } : {}),
  }
  return JSON.stringify(answer)
}

/** The record of a document the device printed for a receipt (its place in the queue and its reference). */
export function printedRecord(
  receipt: { queueId: string; queueRow: number; receiptReference: string; terminalId: string | null },
  document: NonNullable<DeviceJob['document']>,
  printed: PrintedDocument,
): ItDocument {
  return {
    ...receipt,
    kind: document.kind,
    serial: printed.serialNumber,
    zNumber: printed.zNumber,
    docNumber: printed.documentNumber,
    deviceMoment: printed.moment.replace('T', ' '),
    total: formatDecimal(BigInt(document.totalCents) * 10_000n),
  }
}
