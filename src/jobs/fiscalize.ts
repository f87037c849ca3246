import type { CertificateMaterial } from '../core/certificates/certificates.ts'
import { type ChainRecord, deliverChain, type Verdict } from '../core/delivery.ts'
import type {
  AuthorityAnswer,
  AuthorityClient,
  FiscalizerFor,
  SubmittedRecord,
} from '../core/v1/fiscalizer.ts'
import type { JobRecord, JobStatus } from '../core/outbox.ts'
import {
  awaitingStatuses,
  type LocationRecord,
  type TransactionRecord,
  type TransactionStatus,
} from '../core/v1/model.ts'
import type { AccountStore, TransactionPatch, TransactionStore, V1Unit } from '../core/v1/ports.ts'
import { emitWebhook, FISCALIZE_JOB } from '../core/v1/transactions.ts'
import { transactionView } from '../core/v1/views.ts'
import { batchWindows } from '../markets/index.ts'
import type { JobHandler, JobOutcome } from './engine.ts'

// Every status write of a submission is a compare-and-set on the transaction's status (in the UPDATE's WHERE
// clause): a cancellation that commits while an attempt is under way wins, and the attempt's late answer
// does not turn `cancelled` back into `success`.
/** What an attempt may overwrite with `processing` or `failed`: the statuses the outbox itself writes. */
const RETRYING: readonly TransactionStatus[] = ['pending', 'processing', 'failed']
/** Set by the seal (`pending_<window>`, `pending_submission`) and kept until the authority answers. */
const AWAITING: readonly TransactionStatus[] = awaitingStatuses(batchWindows)
/** What the authority's answer may overwrite with `success` (again, after a reconciliation) or `failed_permanent`. */
const ANSWERABLE: readonly TransactionStatus[] = [...RETRYING, ...AWAITING]

/**
 * Writes what an attempt shows: the patch over the outbox's own statuses, or the patch without its status
 * over a status the seal set (kept until the authority answers; the error is shown all the same). The status
 * read with the job picks which to try first, the other one follows only when it changed meanwhile; a
 * cancellation makes both miss.
 */
async function writeAttempt(
  unit: V1Unit,
  transaction: TransactionRecord,
  patch: TransactionPatch & { status: 'processing' | 'failed' },
): Promise<void> {
  const retrying = { ...patch, onlyFrom: RETRYING }
  const awaiting = { ...patch, status: undefined, onlyFrom: AWAITING }
  const [first, second] = AWAITING.includes(transaction.status) ? [awaiting, retrying] : [retrying, awaiting]
  if (!(await unit.updateTransaction(transaction.id, first)))
    await unit.updateTransaction(transaction.id, second)
}

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
  /** The stored certificate a location names (core/certificates), read at each submission. */
  certificateOf: (location: LocationRecord) => Promise<CertificateMaterial | undefined>
  fiscalizerFor: FiscalizerFor
  webhookMaxAttempts: number
  /** Most submission jobs one worker loop claims at once (they are then batched per location). */
  claimBatch: number
  /** The outbox's clock (epoch milliseconds). */
  clock: () => number
}): JobHandler {
  const finished = (
    transaction: TransactionRecord,
    record: SubmittedRecord,
    answer: AuthorityAnswer,
  ): JobOutcome => ({
    kind: 'done',
    effects: async (unit) => {
      const now = new Date().toISOString()
      const status: TransactionStatus = answer.status === 'registered' ? 'success' : answer.status
      const patch = {
        status,
        fiscalId: answer.fiscalId ?? record.fiscalId,
        responsePayload: {
          ...(transaction.responsePayload as Record<string, unknown> | null),
          authority: answer.response,
        },
        errorMessage: null,
        completedAt: status === 'success' ? now : null,
        updatedAt: now,
      }
      const applied = await unit.updateTransaction(transaction.id, {
        ...patch,
        onlyFrom: [...ANSWERABLE, 'success'],
      })
      if (!applied) {
        // Cancelled meanwhile: the status stays, the authority's answer is still kept for the audit.
        await unit.updateTransaction(transaction.id, {
          responsePayload: patch.responsePayload,
          updatedAt: now,
        })
        return
      }
      await emitWebhook(
        unit,
        transaction.accountId,
        'fiscalization.completed',
        { transaction: transactionView({ ...transaction, ...patch }) },
        deps.webhookMaxAttempts,
      )
    },
  })

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
    effects: async (unit) => {
      const updatedAt = new Date().toISOString()
      await writeAttempt(unit, transaction, { status: 'failed', errorMessage: error, updatedAt })
    },
  })

  const outcomeOf = (item: Item, verdict: Verdict<AuthorityAnswer>, now: number): JobOutcome => {
    const { transaction, record } = item
    if (verdict.kind === 'settled') return finished(transaction, record, verdict.answer)
    if (verdict.kind === 'refused')
      return {
        kind: 'dead',
        error: verdict.error,
        effects: async (unit) => {
          const payload = {
            ...(transaction.responsePayload as Record<string, unknown> | null),
            authority: verdict.answer.response,
          }
          await unit.updateTransaction(transaction.id, {
            responsePayload: payload,
            updatedAt: new Date().toISOString(),
          })
        },
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
      const outcomes = new Map<string, JobOutcome>()
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
        outcomes.set(job.id, {
          kind: 'wait',
          reason: `waiting for record ${head.sequence} of the chain to reach the authority first`,
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
          await writeAttempt(unit, row.transaction, { status: 'processing', submittedAt, updatedAt: at })
        }
      })
      const locations = new Map<string, LocationRecord | undefined>()
      const items: Item[] = []
      let client: AuthorityClient | undefined
      for (const job of attempted) {
        const row = rows.get(job.subjectId)
        if (!row?.record) {
          outcomes.set(job.id, { kind: 'dead', error: 'the transaction or its sealed record is missing' })
          continue
        }
        const { transaction, record } = row
        const key = `${transaction.accountId}:${transaction.locationId}`
        if (!locations.has(key))
          locations.set(key, await deps.locations.findLocation(transaction.accountId, transaction.locationId))
        const location = locations.get(key)
        if (!location) {
          outcomes.set(job.id, { kind: 'dead', error: 'the location of the transaction is missing' })
          continue
        }
        const fiscalizer = deps.fiscalizerFor(location)
        // One group is one location's chain in one environment: one client for all of it.
        if (!client && fiscalizer.authority)
          client = fiscalizer.authority(location, transaction.environment, await deps.certificateOf(location))
        if (!client) {
          outcomes.set(job.id, { kind: 'dead', error: `fiscalizer ${fiscalizer.name} has no authority` })
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
      if (!client) return outcomes
      items.sort((a, b) => a.position - b.position)
      for (const [item, verdict] of await deliverChain(client, items))
        outcomes.set(item.job.id, outcomeOf(item, verdict, now))
      return outcomes
    },
    async onDead(unit: V1Unit, job: JobRecord, error: string) {
      // Only through the unit: on SQLite a read outside it would wait for this very transaction.
      const now = new Date().toISOString()
      const patch = { status: 'failed_permanent' as const, errorMessage: error, updatedAt: now }
      // A transaction cancelled meanwhile stays cancelled; the dead letter event still tells a person.
      await unit.updateTransaction(job.subjectId, { ...patch, onlyFrom: ANSWERABLE })
      const current = await unit.findTransaction(job.accountId, job.subjectId)
      if (!current) return
      await emitWebhook(
        unit,
        job.accountId,
        'fiscalization.dead_letter',
        { transaction: transactionView(current), job_id: job.id, error },
        deps.webhookMaxAttempts,
      )
    },
    async onRevive(unit: V1Unit, job: JobRecord) {
      await unit.updateTransaction(job.subjectId, {
        status: 'pending',
        errorMessage: null,
        updatedAt: new Date().toISOString(),
        onlyFrom: ['failed_permanent'],
      })
    },
  }
}
