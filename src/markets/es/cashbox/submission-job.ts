import {
  type ChainRecord,
  deliverChain,
  type SentMarks,
  type Verdict,
  waitingForRecord,
} from '../../../core/delivery.ts'
import type { JobRecord } from '../../../core/outbox.ts'
import type { TransactionDeliveries } from '../../../core/v1/market-signed.ts'
import type { V1Unit } from '../../../core/v1/ports.ts'
import type { SpanishAuthority } from '../authority.ts'
import { ES_SUBMIT_JOB, type EsCashboxConfig, type EsRecord, type EsStore, parseJobSubject } from './ports.ts'
import { SpanishDelivery, type SpanishRecord, type SpanishStatement } from '../delivery.ts'
import type { JobHandler, JobOutcome } from '../../../jobs/engine.ts'

export type EsAuthorityOf = (
  queueId: string,
  config: EsCashboxConfig,
  accountId: string,
) => Promise<SpanishAuthority<SpanishRecord>>

interface Item extends ChainRecord<EsRecord> {
  /** The claimed job of the record; none for an earlier pending record of the chain taken along. */
  job?: JobRecord
}

/** What a cash box's record keeps of the authority's answer. */
interface Answer {
  status: 'accepted' | 'accepted_with_errors' | 'rejected'
  authority: Record<string, unknown>
}

/** How long records wait for an earlier record of their chain that another attempt is sending now. */
const HEAD_BUSY_WAIT_MS = 1_000
/**
 * Records behind a record in its backoff after a failure wait at least this long between looks at it: the
 * attempt that settles it makes them due at once (releaseSubmissions), so they need not be claimed again
 * at each of its retries (in an outage, thousands of records behind it each time).
 */
const FAILED_HEAD_RECHECK_MS = 60_000

const answerOf = ({ status, ...authority }: SpanishStatement): Answer => ({ status, authority })
const valueOf = (record: EsRecord): SpanishRecord => record.document.record.value

/**
 * Submission of the Spanish records of /v2/sign receipts (one job per record, grouped per cash box): a thin
 * surface over the one delivery algorithm (core/delivery.ts) and the one Spanish client. Records behind
 * an earlier pending record whose job is not due wait for it; an attempt takes along the earlier records
 * of the chain that are still pending (up to one claim's worth), so that nothing is sent past a record of
 * the chain; a record's `sentAt` is its "ask first" flag, so a record taken along is looked up as well as
 * one whose own job had a lost answer.
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
  /** The transactions API v1's side of the records of its locations' cash boxes. */
  transactions: TransactionDeliveries
  /** The outbox's clock (epoch milliseconds). */
  clock: () => number
}): JobHandler {
  const { store } = deps

  /**
   * The transactions a group's records are, when the cash box is a location's (its records' receipt
   * references are the transaction ids), by the jobs' account; none for other cash boxes.
   */
  type Transactions = { deliveries: TransactionDeliveries; accountId: string } | undefined

  /** A submission marks its records sent (sentAt) right before it leaves, and its transactions with them. */
  const sentMarks = (queueId: string, transactions: Transactions): SentMarks<EsRecord> => {
    let sentAt = ''
    const seqs = (records: readonly EsRecord[]) => records.map((record) => record.seq)
    return {
      async mark(records) {
        sentAt = new Date().toISOString()
        await store.markSent(queueId, seqs(records), sentAt)
        await transactions?.deliveries.sending(
          transactions.accountId,
          records.map((record) => record.receiptReference),
        )
      },
      unmark: (records) => store.unmarkSent(queueId, seqs(records), sentAt),
    }
  }

  /** The verdict on a record's transaction, in the job's commit (none: in one of its own). */
  const answered = (transactions: Transactions, record: EsRecord, answer: Answer, unit?: V1Unit) =>
    transactions?.deliveries.answered(unit, transactions.accountId, record.receiptReference, {
      registered: answer.status !== 'rejected',
      response: { status: answer.status, ...answer.authority },
    })

  const toOutcome = (item: Item, verdict: Verdict<Answer>, transactions: Transactions): JobOutcome => {
    const { queueId, seq } = item.record
    if (verdict.kind === 'settled') {
      const { status, authority } = verdict.answer
      return {
        kind: 'done',
        effects: async (unit) => {
          await store.setStatusIn(unit.unit, queueId, seq, status, authority)
          await answered(transactions, item.record, verdict.answer, unit)
        },
      }
    }
    if (verdict.kind === 'refused')
      return {
        kind: 'dead',
        error: verdict.error,
        effects: async (unit) => {
          await store.setStatusIn(unit.unit, queueId, seq, 'rejected', verdict.answer.authority)
          await answered(transactions, item.record, { ...verdict.answer, status: 'rejected' }, unit)
        },
      }
    if (verdict.kind === 'paced') return { kind: 'wait', reason: verdict.reason, runAt: verdict.until }
    // Failed, or held behind a failed record: a counted attempt with its backoff, as the failed record's own.
    const error = verdict.kind === 'held' ? verdict.reason : verdict.error
    return {
      kind: 'retry',
      error,
      reconcile: verdict.reconcile,
      ...(verdict.retryAfterMs ? { retryAfterMs: verdict.retryAfterMs } : {}),
      ...(transactions
        ? {
            effects: (unit: V1Unit) =>
              transactions.deliveries.retrying(
                unit,
                transactions.accountId,
                item.record.receiptReference,
                error,
              ),
          }
        : {}),
    }
  }

  /** The transaction of a job's record, when its cash box is a location's. */
  const transactionOf = async (unit: V1Unit, job: JobRecord) => {
    const { queueId, seq } = parseJobSubject(job.subjectId)
    if (!(await store.configIn(unit.unit, queueId))?.location) return undefined
    return (await store.recordIn(unit.unit, queueId, seq))?.receiptReference
  }

  /**
   * The chain's first pending record below the claimed ones, when its own job is not due: in its backoff
   * after a failure, held for a batch window or a wait between submissions, or claimed by another attempt.
   * Nothing behind it may go before it, so the claimed jobs wait for it (uncounted) without loading the
   * backlog or making a submission: during an outage each new record costs one look-up, not an attempt
   * over everything pending. When that record's job is due, its attempt takes the others along.
   */
  async function waitForHead(queueId: string, first: number): Promise<JobOutcome | undefined> {
    const [head] = await store.pendingBelow(queueId, first, 1)
    if (head === undefined) return undefined
    const job = await store.openSubmission(queueId, head)
    const now = deps.clock()
    if (!job || (job.status !== 'processing' && job.runAt <= now)) return undefined
    // A head held for a window or the authority's wait is due with them, so they go in its submission.
    const runAt =
      job.status === 'processing'
        ? now + HEAD_BUSY_WAIT_MS
        : job.status === 'failed'
          ? Math.max(job.runAt, now + FAILED_HEAD_RECHECK_MS)
          : job.runAt
    return { kind: 'wait', reason: waitingForRecord(head), runAt }
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
    const waiting = await waitForHead(queueId, Math.min(...bySeq.keys()))
    if (waiting) {
      for (const job of jobs) outcomes.set(job.id, waiting)
      return outcomes
    }
    // Taken along: the earlier pending records, up to one claim's worth; the claimed records past them
    // wait for the next attempt rather than go past a record of the chain left behind.
    const last = Math.max(...bySeq.keys())
    const below = await store.pendingBelow(queueId, last, deps.claimBatch)
    const cut = below.length >= deps.claimBatch ? below.at(-1) : undefined
    if (cut !== undefined) {
      const past: JobOutcome = {
        kind: 'wait',
        reason: waitingForRecord(cut),
        runAt: deps.clock() + HEAD_BUSY_WAIT_MS,
      }
      for (const [seq, job] of bySeq)
        if (seq > cut) {
          outcomes.set(job.id, past)
          bySeq.delete(seq)
        }
    }
    const earlier = below.filter((seq) => !bySeq.has(seq))
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
    // The jobs' account is the cash box's: a location's cash box is its account's.
    const accountId = jobs[0]?.accountId ?? ''
    const transactions: Transactions = config.location
      ? { deliveries: deps.transactions, accountId }
      : undefined
    // At each attempt: a replaced certificate goes with the next one.
    const authority = await deps.authorityOf(queueId, config, accountId)
    const client = new SpanishDelivery(authority, valueOf, answerOf)
    const verdicts = await deliverChain(client, items, sentMarks(queueId, transactions))
    // The chain moved on: the records waiting behind it go now, not at their next look.
    if ([...verdicts.values()].some((v) => v.kind === 'settled' || v.kind === 'refused'))
      await store.releaseSubmissions(queueId, deps.clock())
    for (const [item, verdict] of verdicts) {
      if (item.job) outcomes.set(item.job.id, toOutcome(item, verdict, transactions))
      // A record taken along: its answer is stored now; its own job finds it settled.
      else if (verdict.kind === 'settled' || verdict.kind === 'refused') {
        const answer =
          verdict.kind === 'settled' ? verdict.answer : { ...verdict.answer, status: 'rejected' as const }
        await store.setStatus(queueId, item.record.seq, answer.status, answer.authority)
        await answered(transactions, item.record, answer)
      }
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
      const transactionId = await transactionOf(unit, job)
      if (transactionId) await deps.transactions.dead(unit, job, transactionId, error)
    },
    async onRevive(unit: V1Unit, job: JobRecord) {
      const { queueId, seq } = parseJobSubject(job.subjectId)
      await store.setStatusIn(unit.unit, queueId, seq, 'pending', undefined, 'failed_permanent')
      const transactionId = await transactionOf(unit, job)
      if (transactionId) await deps.transactions.revived(unit, transactionId)
    },
  }
}
