import type { JobRecord } from '../outbox.ts'
import type { AuthorityAnswer } from './fiscalizer.ts'
import {
  awaitingStatuses,
  type BatchWindow,
  type TransactionRecord,
  type TransactionStatus,
} from './model.ts'
import type { TransactionPatch, V1Unit } from './ports.ts'
import { emitWebhook } from './transactions.ts'
import { transactionView } from './views.ts'

/**
 * How the delivery of a transaction's record shows on the transaction: the attempts, the authority's answer,
 * the dead letter and a revival. Both deliveries write through it: the outbox's own submissions
 * (jobs/fiscalize.ts) and a market that delivers its records itself (market-signed.ts, sealed in the commit).
 *
 * Every status write is a compare-and-set on the transaction's status (in the UPDATE's WHERE clause): a
 * cancellation that commits while an attempt is under way wins, and the attempt's late answer does not turn
 * `cancelled` back into `success`.
 */
export class DeliveryOutcomes {
  /** What an attempt may overwrite with `processing` or `failed`: the statuses the outbox itself writes. */
  private readonly retrying: readonly TransactionStatus[] = ['pending', 'processing', 'failed']
  /** Set by the seal (`pending_<window>`, `pending_submission`) and kept until the authority answers. */
  private readonly awaiting: readonly TransactionStatus[]
  /** What the authority's answer may overwrite with `success` (again, after a reconciliation) or `failed_permanent`. */
  private readonly answerable: readonly TransactionStatus[]

  constructor(
    windows: readonly BatchWindow[],
    private readonly webhookMaxAttempts: number,
  ) {
    this.awaiting = awaitingStatuses(windows)
    this.answerable = [...this.retrying, ...this.awaiting]
  }

  /**
   * Writes what an attempt shows: the patch over the outbox's own statuses, or the patch without its status
   * over a status the seal set (kept until the authority answers; the error is shown all the same). The
   * status read with the job picks which to try first, the other one follows only when it changed
   * meanwhile; a cancellation makes both miss.
   */
  async attempt(
    unit: V1Unit,
    transaction: TransactionRecord,
    patch: TransactionPatch & { status: 'processing' | 'failed' },
  ): Promise<void> {
    const retrying = { ...patch, onlyFrom: this.retrying }
    const awaiting = { ...patch, status: undefined, onlyFrom: this.awaiting }
    const [first, second] = this.awaiting.includes(transaction.status)
      ? [awaiting, retrying]
      : [retrying, awaiting]
    if (!(await unit.updateTransaction(transaction.id, first)))
      await unit.updateTransaction(transaction.id, second)
  }

  /** The authority registered the record (or took it for later): the answer and its webhook. */
  async answered(
    unit: V1Unit,
    transaction: TransactionRecord,
    answer: AuthorityAnswer,
    fiscalId: string | null,
  ): Promise<void> {
    const now = new Date().toISOString()
    const status: TransactionStatus = answer.status === 'registered' ? 'success' : answer.status
    const patch = {
      status,
      fiscalId: answer.fiscalId ?? fiscalId,
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
      onlyFrom: [...this.answerable, 'success'],
    })
    if (!applied) {
      // Cancelled meanwhile: the status stays, the authority's answer is still kept for the audit.
      await unit.updateTransaction(transaction.id, { responsePayload: patch.responsePayload, updatedAt: now })
      return
    }
    await emitWebhook(
      unit,
      transaction.accountId,
      'fiscalization.completed',
      { transaction: transactionView({ ...transaction, ...patch }) },
      this.webhookMaxAttempts,
    )
  }

  /** The authority refused the record for good: its answer is kept; the dead letter follows (`dead`). */
  async refused(unit: V1Unit, transaction: TransactionRecord, response: Record<string, unknown>) {
    const payload = {
      ...(transaction.responsePayload as Record<string, unknown> | null),
      authority: response,
    }
    await unit.updateTransaction(transaction.id, {
      responsePayload: payload,
      updatedAt: new Date().toISOString(),
    })
  }

  /** The record's delivery went to the dead letter: failed_permanent, and the event that tells a person. */
  async dead(unit: V1Unit, job: JobRecord, transactionId: string, error: string): Promise<void> {
    // Only through the unit: on SQLite a read outside it would wait for this very transaction.
    const now = new Date().toISOString()
    const patch = { status: 'failed_permanent' as const, errorMessage: error, updatedAt: now }
    // A transaction cancelled meanwhile stays cancelled; the dead letter event still tells a person.
    await unit.updateTransaction(transactionId, { ...patch, onlyFrom: this.answerable })
    const current = await unit.findTransaction(job.accountId, transactionId)
    if (!current) return
    await emitWebhook(
      unit,
      job.accountId,
      'fiscalization.dead_letter',
      { transaction: transactionView(current), job_id: job.id, error },
      this.webhookMaxAttempts,
    )
  }

  /** A dead delivery revived by hand: pending again. */
  async revived(unit: V1Unit, transactionId: string): Promise<void> {
    await unit.updateTransaction(transactionId, {
      status: 'pending',
      errorMessage: null,
      updatedAt: new Date().toISOString(),
      onlyFrom: ['failed_permanent'],
    })
  }
}
