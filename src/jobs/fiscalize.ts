import { type ChainRecord, deliverChain, type Verdict, waitingForRecord } from '../core/delivery.ts'
import { DeliveryOutcomes } from '../core/v1/delivery-outcomes.ts'
import type {
  AuthorityAnswer,
  AuthorityClient,
  FiscalizerFor,
  SubmittedRecord,
} from '../core/v1/fiscalizer.ts'
import type { JobRecord, JobStatus } from '../core/outbox.ts'
import type { LocationRecord, TransactionRecord } from '../core/v1/model.ts'
import type { AccountStore, TransactionStore, V1Unit } from '../core/v1/ports.ts'
import { FISCALIZE_JOB } from '../core/v1/transactions.ts'
import { batchWindows } from '../markets/index.ts'
import type { JobHandler, JobOutcome } from './engine.ts'

/** A claimed job with its transaction, as a record of the chain to deliver. */
interface Item extends ChainRecord<SubmittedRecord> {
  job: JobRecord
  transaction: TransactionRecord
}

/**
 * Submission of sealed records to their authority: a thin surface over the one delivery algorithm
 * (core/delivery.ts), per group (one location's chain in one environment). It loads the claimed
 * transactions, keeps a record whose chain has an earlier open job outside the claim waiting for it, and
 * stores each record's verdict on its transaction (compare-and-set) with its webhook.
 */
export function fiscalizeHandler(deps: {
  transactions: TransactionStore
  jobs: {
    /** The chain's first open job apart from the claimed ones (storage/repositories/outbox-jobs.ts). */
    chainHead(
      kind: string,
      groupKey: string,
      except: readonly string[],
    ): Promise<
      | { sequence: number; runAt: number; status: JobStatus; attempts: number; batchWindow: string | null }
      | undefined
    >
  }
  locations: Pick<AccountStore, 'findLocation'>
  fiscalizerFor: FiscalizerFor
  webhookMaxAttempts: number
  /** Most submission jobs one worker loop claims at once (they are then batched per location). */
  claimBatch: number
  /** The outbox's clock (epoch milliseconds). */
  clock: () => number
}): JobHandler {
  const outcomes = new DeliveryOutcomes(batchWindows, deps.webhookMaxAttempts)

  const failed = (
    transaction: TransactionRecord,
    error: string,
    reconcile: boolean,
    retryAfterMs?: number,
  ): JobOutcome => ({
    kind: 'retry',
    error,
    reconcile,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    effects: (unit) =>
      outcomes.attempt(unit, transaction, {
        status: 'failed',
        errorMessage: error,
        updatedAt: new Date().toISOString(),
      }),
  })

  const outcomeOf = (item: Item, verdict: Verdict<AuthorityAnswer>, now: number): JobOutcome => {
    const { transaction, record } = item
    if (verdict.kind === 'settled')
      return {
        kind: 'done',
        effects: (unit) => outcomes.answered(unit, transaction, verdict.answer, record.fiscalId),
      }
    if (verdict.kind === 'refused')
      return {
        kind: 'dead',
        error: verdict.error,
        effects: (unit) => outcomes.refused(unit, transaction, verdict.answer.response),
      }
    if (verdict.kind === 'later')
      return failed(transaction, verdict.error, verdict.reconcile, verdict.retryAfterMs)
    if (verdict.kind === 'paced') return { kind: 'wait', reason: verdict.reason, runAt: verdict.until }
    // Held behind an earlier record: uncounted; by its next claim that record's due time is known (chainHead).
    return { kind: 'wait', reason: verdict.reason, runAt: now + (verdict.retryAfterMs ?? 1_000) }
  }

  return {
    kind: FISCALIZE_JOB,
    claimBatch: deps.claimBatch,
    async run(jobs) {
      const results = new Map<string, JobOutcome>()
      const rows = new Map(
        (await deps.transactions.withRecords(jobs.map((j) => j.subjectId))).map((r) => [r.transaction.id, r]),
      )
      // Chain order, always: the authority checks each record's link against the last one it holds (AEAT
      // 2001) and refuses to cancel what it does not hold (AEAT 3002, TicketBAI 007). A record whose chain
      // has an earlier open job outside this claim waits for it, uncounted.
      const now = deps.clock()
      const head = await deps.jobs.chainHead(
        FISCALIZE_JOB,
        jobs[0]?.groupKey ?? '',
        jobs.map((j) => j.id),
      )
      const attempted = jobs.filter((job) => {
        const sequence = rows.get(job.subjectId)?.record?.sequence
        if (!head || sequence === undefined || sequence < head.sequence) return true
        const due = Math.max(head.runAt, now)
        results.set(job.id, {
          kind: 'wait',
          reason: waitingForRecord(head.sequence),
          // Its next attempt; a second when it is under way on another node, or when it was never tried and
          // is held for no window: then it is reserved for its own request's inline attempt, due any moment.
          runAt:
            head.status === 'processing'
              ? now + 1_000
              : head.attempts === 0 && head.batchWindow === null
                ? Math.min(due, now + 1_000)
                : due,
        })
        return false
      })
      await deps.transactions.unit(async (unit) => {
        const at = new Date().toISOString()
        for (const job of attempted) {
          const row = rows.get(job.subjectId)
          if (!row) continue
          const submittedAt = row.transaction.submittedAt ?? at
          await outcomes.attempt(unit, row.transaction, { status: 'processing', submittedAt, updatedAt: at })
        }
      })
      const locations = new Map<string, LocationRecord | undefined>()
      const items: Item[] = []
      let client: AuthorityClient | undefined
      for (const job of attempted) {
        const row = rows.get(job.subjectId)
        if (!row?.record) {
          results.set(job.id, { kind: 'dead', error: 'the transaction or its sealed record is missing' })
          continue
        }
        const { transaction, record } = row
        const key = `${transaction.accountId}:${transaction.locationId}`
        if (!locations.has(key))
          locations.set(key, await deps.locations.findLocation(transaction.accountId, transaction.locationId))
        const location = locations.get(key)
        if (!location) {
          results.set(job.id, { kind: 'dead', error: 'the location of the transaction is missing' })
          continue
        }
        const fiscalizer = deps.fiscalizerFor(location)
        // One group is one location's chain in one environment: one client for all of it.
        client ??= fiscalizer.authority?.(location, transaction.environment)
        if (!client) {
          results.set(job.id, { kind: 'dead', error: `fiscalizer ${fiscalizer.name} has no authority` })
          continue
        }
        items.push({
          job,
          transaction,
          record: { ...record, type: transaction.type, location },
          position: record.sequence,
          askFirst: job.reconcile,
        })
      }
      if (!client) return results
      items.sort((a, b) => a.position - b.position)
      for (const [item, verdict] of await deliverChain(client, items))
        results.set(item.job.id, outcomeOf(item, verdict, now))
      return results
    },
    onDead: (unit: V1Unit, job: JobRecord, error: string) => outcomes.dead(unit, job, job.subjectId, error),
    onRevive: (unit: V1Unit, job: JobRecord) => outcomes.revived(unit, job.subjectId),
  }
}
