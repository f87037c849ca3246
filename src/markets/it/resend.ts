import { isNoAnswer, isThisDocument, RESET } from './device-answers.ts'
import { parseJob, printedRecord, type ResendReport } from './device-job.ts'
import {
  describeFailure,
  type FpmateClient,
  type LastDocument,
  readFiscalReceiptAnswer,
  serializeRequest,
} from './fpmate/index.ts'
import type { HeldReceipt, ItStore } from './ports.ts'
import type { PrintedDocument } from './signatures.ts'

/** Beyond its exchange with the device, what one receipt may take (its two stored steps). */
const PER_RECEIPT_MARGIN_MS = 1_000

/**
 * Failed mode, the zero receipt that found the device back: the held receipts are sent in the cash box's
 * order, each one once. Each step is stored as it happens (outside any receipt: one call prints many
 * documents), so that after a crash in the middle a receipt marked sent is first looked for as the device's
 * last document, and never printed twice. The resend stops, leaving the rest held for the next zero receipt,
 * when the device stops answering, when it refuses a receipt (that one is settled as refused: the POS issues
 * it again), or when the call's budget has no room for one more.
 */
export async function resendHeld(
  store: ItStore,
  client: FpmateClient,
  queueId: string,
  timeoutMs: number,
  deadline: number,
  signal: AbortSignal,
): Promise<ResendReport> {
  const waiting = await store.waiting(queueId)
  const report: ResendReport = { printed: [], refused: [], waiting: waiting.length }
  const settlePrinted = async (held: HeldReceipt, printed: PrintedDocument) => {
    const document = jobDocument(held)
    await store.settlePrinted(printedRecord(held, document, printed))
    report.printed.push({
      receiptNumber: held.receiptNumber,
      receiptReference: held.receiptReference,
      serialNumber: printed.serialNumber,
      zNumber: printed.zNumber,
      documentNumber: printed.documentNumber,
      moment: printed.moment,
    })
    report.waiting--
  }
  for (const held of waiting) {
    // Room for the receipt's request to run its full timeout; a call cut short later (a read-back before
    // it, a reset after a refusal) leaves it sent, which the next zero receipt looks for first.
    if (signal.aborted || Date.now() + timeoutMs + PER_RECEIPT_MARGIN_MS > deadline) break
    if (held.state === 'sent') {
      // It may have been printed before the answer was lost (or fiscalbox stopped): look first.
      const last = await client.lastDocument(signal)
      if (last.kind !== 'document') break
      if (await isHeldDocument(store, held, last.document)) {
        await settlePrinted(held, last.document)
        continue
      }
    }
    await store.markSent(queueId, held.queueRow)
    const sent = await client.post(parseJob(held.job).xml, signal)
    // No answer: it stays sent, and the next zero receipt reads the device's last document before anything.
    if (sent.kind !== 'answer' || isNoAnswer(sent.response)) break
    if (sent.response.success) {
      await settlePrinted(held, readFiscalReceiptAnswer(sent.response))
      continue
    }
    await client.post(serializeRequest(RESET), signal)
    const error = `the RT device refused: ${describeFailure(sent.response)}`
    await store.settleRefused(queueId, held.queueRow, error)
    report.refused.push({ receiptNumber: held.receiptNumber, receiptReference: held.receiptReference, error })
    report.waiting--
    break
  }
  return report
}

const jobDocument = (held: HeldReceipt) => {
  const document = parseJob(held.job).document
  if (!document) throw new Error(`held receipt ${held.receiptNumber} has no document`)
  return document
}

const isHeldDocument = async (store: ItStore, held: HeldReceipt, last: LastDocument) =>
  isThisDocument(last, jobDocument(held).totalCents, await store.lastDocument(held.queueId))
