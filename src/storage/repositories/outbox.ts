import type { Kysely } from 'kysely'
import type { NewJob } from '../../core/outbox.ts'
import type { Database } from '../schema.ts'

/**
 * Writes one outbox job, pending, in the caller's transaction: with the row that caused it, so that both
 * or neither are stored. Every kind of job (v1 submissions, webhooks, a market's records) goes in here.
 */
export async function insertOutboxJob(db: Kysely<Database>, job: NewJob): Promise<void> {
  await db
    .insertInto('jobs')
    .values({
      id: job.id,
      account_id: job.accountId,
      kind: job.kind,
      subject_id: job.subjectId,
      group_key: job.groupKey,
      status: 'pending',
      attempts: 0,
      max_attempts: job.maxAttempts,
      run_at: job.runAt,
      locked_by: null,
      locked_until: null,
      reconcile: 0,
      last_error: null,
      created_at: job.createdAt,
      updated_at: job.createdAt,
      completed_at: null,
      batch_window: job.batchWindow ?? null,
    })
    .execute()
}
