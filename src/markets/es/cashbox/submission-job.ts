import { type ChainRecord, deliverChain, type SentMarks, type Verdict } from '../../../core/delivery.ts'
import type { JobRecord } from '../../../core/outbox.ts'
import type { V1Unit } from '../../../core/v1/ports.ts'
import type { SpanishAuthority } from '../authority.ts'
import { ES_SUBMIT_JOB, type EsCashboxConfig, type EsRecord, type EsStore, parseJobSubject } from './ports.ts'
import { SpanishDelivery, type SpanishRecord, type SpanishStatement } from '../delivery.ts'
import type { JobHandler, JobOutcome } from '../../../jobs/engine.ts'

export type EsAuthorityOf = (queueId: string, config: EsCashboxConfig) => SpanishAuthority<SpanishRecord>

interface Item extends ChainRecord<EsRecord> {
  /** The claimed job of the record; none for an earlier pending record of the chain taken along. */
  job?: JobRecord
}

/** What a cash box's record keeps of the authority's answer. */
interface Answer {
  status: 'accepted' | 'accepted_with_errors' | 'rejected'
  authority: Record<string, unknown>
}

const answerOf = ({ status, ...authority }: SpanishStatement): Answer => ({ status, authority })
const valueOf = (record: EsRecord): SpanishRecord => record.document.record.value

/**
 * Submission of the Spanish records of /v2/sign receipts (one job per record, grouped per cash box): a thin
 * surface over the one delivery algorithm (core/delivery.ts) and the one Spanish client. An attempt takes
 * along the earlier records of the chain that are still pending (their jobs wait in backoff), so that
 * nothing is sent past a record of the chain; a record's `sentAt` is its "ask first" flag, so a record
 * taken along is looked up as well as one whose own job had a lost answer.
 */
export function esCashboxSubmitHandler(deps: {
  store: EsStore
  authorityOf: EsAuthorityOf
  /**
   * Most record jobs one worker loop claims at once (JOBS_SUBMISSION_CLAIM_BATCH, as v1's submissions):
   * a cash box's backlog or its held LROE batch goes out in submissions of up to the authority's 1000
   * records instead of one submission per 20 claimed jobs.
   */
  claimBatch: number
}): JobHandler {
  const { store } = deps

  /** A submission marks its records sent (sentAt) right before it leaves. */
  const sentMarks = (queueId: string): SentMarks<EsRecord> => {
    let sentAt = ''
    const seqs = (records: readonly EsRecord[]) => records.map((record) => record.seq)
    return {
      async mark(records) {
        sentAt = new Date().toISOString()
        await store.markSent(queueId, seqs(records), sentAt)
      },
      unmark: (records) => store.unmarkSent(queueId, seqs(records), sentAt),
    }
  }

  const toOutcome = (item: Item, verdict: Verdict<Answer>): JobOutcome => {
    const { queueId, seq } = item.record
    if (verdict.kind === 'settled') {
      const { status, authority } = verdict.answer
      return {
        kind: 'done',
        effects: (unit) => store.setStatusIn(unit.unit, queueId, seq, status, authority),
      }
    }
    if (verdict.kind === 'refused')
      return {
        kind: 'dead',
        error: verdict.error,
        effects: (unit) => store.setStatusIn(unit.unit, queueId, seq, 'rejected', verdict.answer.authority),
      }
    if (verdict.kind === 'paced') return { kind: 'wait', reason: verdict.reason, runAt: verdict.until }
    // Failed, or held behind a failed record: a counted attempt with its backoff, because the next attempt of
    // any later record takes the earlier pending ones along (a short wait would resend them at once).
    return {
      kind: 'retry',
      error: verdict.kind === 'held' ? verdict.reason : verdict.error,
      reconcile: verdict.reconcile,
      ...(verdict.retryAfterMs ? { retryAfterMs: verdict.retryAfterMs } : {}),
    }
  }

  async function runGroup(jobs: JobRecord[]): Promise<Map<string, JobOutcome>> {
    const outcomes = new Map<string, JobOutcome>()
    const queueId = parseJobSubject(jobs[0]?.subjectId ?? '').queueId
    const bySeq = new Map(jobs.map((job) => [parseJobSubject(job.subjectId).seq, job]))
    const config = await store.config(queueId)
    if (!config) {
      for (const job of jobs)
        outcomes.set(job.id, { kind: 'dead', error: 'the cash box has no Spanish configuration' })
      return outcomes
    }
    const last = Math.max(...bySeq.keys())
    const earlier = (await store.pendingBelow(queueId, last)).filter((seq) => !bySeq.has(seq))
    const records = await store.recordsBySeq(queueId, [...earlier, ...bySeq.keys()])
    const items: Item[] = []
    for (const record of records) {
      const job = bySeq.get(record.seq)
      const item = { record, position: record.seq, askFirst: record.sentAt !== null }
      if (!job) items.push(item)
      else if (record.status === 'pending') items.push({ ...item, job })
      // Settled meanwhile, by an attempt that took it along: a rejection still goes to the dead letter.
      else if (record.status === 'rejected')
        outcomes.set(job.id, {
          kind: 'dead',
          error: `rejected by the authority: ${JSON.stringify(record.authority)}`,
        })
      else outcomes.set(job.id, { kind: 'done' })
    }
    const found = new Set(records.map((record) => record.seq))
    for (const [seq, job] of bySeq)
      if (!found.has(seq)) outcomes.set(job.id, { kind: 'dead', error: `record ${seq} is missing` })
    const client = new SpanishDelivery(deps.authorityOf(queueId, config), valueOf, answerOf)
    const verdicts = await deliverChain(client, items, sentMarks(queueId))
    for (const [item, verdict] of verdicts) {
      if (item.job) outcomes.set(item.job.id, toOutcome(item, verdict))
      // A record taken along: its answer is stored now; its own job finds it settled.
      else if (verdict.kind === 'settled' || verdict.kind === 'refused')
        await store.setStatus(queueId, item.record.seq, verdict.answer.status, verdict.answer.authority)
    }
    return outcomes
  }

  return {
    kind: ES_SUBMIT_JOB,
    claimBatch: deps.claimBatch,
    // One attempt per cash box at a time in this process (the engine runs a group's attempts one after
    // another): two would send the same pending records.
    run: runGroup,
    async onDead(unit: V1Unit, job: JobRecord, error: string) {
      const { queueId, seq } = parseJobSubject(job.subjectId)
      await store.setStatusIn(unit.unit, queueId, seq, 'failed_permanent', { error }, 'pending')
    },
    async onRevive(unit: V1Unit, job: JobRecord) {
      const { queueId, seq } = parseJobSubject(job.subjectId)
      await store.setStatusIn(unit.unit, queueId, seq, 'pending', undefined, 'failed_permanent')
    },
  }
}
