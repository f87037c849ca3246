import type { UnitCall } from '../../core/market.ts'
import { answerText, type DeviceJob, type DeviceOutcome, parseJob, type ResendReport } from './device-job.ts'
import { isNoAnswer, isThisDocument, RESET } from './device-answers.ts'
import { FpmateClient, serializeRequest } from './fpmate/index.ts'
import type { ItStore } from './ports.ts'
import { resendHeld } from './resend.ts'

/**
 * The calls of the RT device, with no transaction open: the job's XML is posted once; when no answer
 * comes, the device's last document is read back to learn whether it was printed. Nothing is ever sent
 * a second time: a document the device did not print is answered as failed, and the POS sends it again.
 */
export class DeviceCalls {
  /** When each device (by URL) last answered, for device_not_reachable's lastContact. */
  private readonly contacts = new Map<string, string>()

  constructor(private readonly store: ItStore) {}

  private client(job: DeviceJob): FpmateClient {
    return new FpmateClient({ url: job.url, timeoutMs: job.timeoutMs, deviceTimeoutMs: job.timeoutMs })
  }

  private answer(job: DeviceJob, outcome: DeviceOutcome, resend?: ResendReport): string {
    if (outcome.type === 'answered' || outcome.type === 'printed' || outcome.type === 'notPrinted')
      this.contacts.set(job.url, new Date().toISOString())
    return answerText(job, outcome, this.contacts.get(job.url), resend)
  }

  async perform(call: UnitCall, signal: AbortSignal): Promise<string> {
    const started = Date.now()
    const job = parseJob(call.request)
    const client = this.client(job)
    const sent = await client.post(job.xml, signal)
    if (sent.kind === 'answer' && isNoAnswer(sent.response))
      return this.answer(
        job,
        await this.readBack(call, job, client, signal, `the device answered ${sent.response.code}`),
      )
    if (sent.kind === 'answer') {
      // A refused document may be left open on the device: clear it, so that the next one starts clean.
      if (!sent.response.success && job.expect === 'document')
        await client.post(serializeRequest(RESET), signal)
      // Failed mode: the device answers the zero receipt again, so the held receipts go to it now.
      const resend =
        sent.response.success && job.resend
          ? await resendHeld(
              this.store,
              client,
              call.queueId,
              job.timeoutMs,
              started + job.resend.budgetMs,
              signal,
            )
          : undefined
      return this.answer(job, { type: 'answered', response: sent.response }, resend)
    }
    if (sent.kind === 'unreachable') return this.answer(job, { type: 'unreachable', reason: sent.reason })
    return this.answer(job, await this.readBack(call, job, client, signal, sent.reason))
  }

  /** After a crash: the document if the device printed it, undefined if it did not (the row is released). */
  async recover(call: UnitCall, signal: AbortSignal): Promise<string | undefined> {
    const job = parseJob(call.request)
    // A zero receipt stopped in the middle of its resend: every step is stored, so it simply goes on.
    if (job.resend) return this.perform(call, signal)
    const outcome = await this.readBack(
      call,
      job,
      this.client(job),
      signal,
      'fiscalbox stopped before the answer came',
    )
    return outcome.type === 'notPrinted' ? undefined : this.answer(job, outcome)
  }

  private async readBack(
    call: UnitCall,
    job: DeviceJob,
    client: FpmateClient,
    signal: AbortSignal,
    lost: string,
  ): Promise<DeviceOutcome> {
    if (!job.document) return { type: 'unconfirmed', reason: lost }
    const last = await client.lastDocument(signal)
    if (last.kind !== 'document')
      return { type: 'unknown', reason: `${lost}; the last document could not be read (${last.kind})` }
    const recorded = await this.store.lastDocument(call.queueId)
    return isThisDocument(last.document, job.document.totalCents, recorded)
      ? { type: 'printed', document: last.document }
      : { type: 'notPrinted', reason: `${lost}; the device's last document is an earlier one` }
  }
}
