import type { Statement } from 'better-sqlite3'
import type { ExpressionBuilder, Kysely } from 'kysely'
import type { NewJob } from '../../core/outbox.ts'
import type { UnitOfWork } from '../../core/ports.ts'
import type { ModuleOutbox, OpenJobStatus } from '../../markets/module.ts'
import type { Storage } from '../database.ts'
import type { Database } from '../schema.ts'
import { transactionOf } from './ledger.ts'
import { readsOf } from './v1-reader.ts'

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

/** insertOutboxJob as one statement prepared once: a market that enqueues a job per receipt runs it hot. */
const INSERT_SQL = `insert into jobs (id, account_id, kind, subject_id, group_key, status, attempts, max_attempts,
    run_at, locked_by, locked_until, reconcile, last_error, created_at, updated_at, completed_at, batch_window)
  values (?, ?, ?, ?, ?, 'pending', 0, ?, ?, null, null, 0, null, ?, ?, null, ?)`

/** The outbox as a market module's store writes to and reads from it (ModuleDatabase.outbox). */
export function moduleOutbox(storage: Storage): ModuleOutbox {
  let insert: Statement | undefined
  return {
    async enqueueIn(unit: UnitOfWork, job: NewJob) {
      const writer = storage.sqlite?.writer
      // In a unit of work on SQLite the group commit holds the writer in its transaction.
      if (writer?.inTransaction) {
        insert ??= writer.prepare(INSERT_SQL)
        insert.run(
          job.id,
          job.accountId,
          job.kind,
          job.subjectId,
          job.groupKey,
          job.maxAttempts,
          job.runAt,
          job.createdAt,
          job.createdAt,
          job.batchWindow ?? null,
        )
        return
      }
      await insertOutboxJob(transactionOf(unit), job)
    },
    async heldFor(kind, subjectIds, now) {
      if (subjectIds.length === 0) return new Map()
      const rows = await storage.db
        .selectFrom('jobs')
        .select(['subject_id', 'batch_window', 'run_at'])
        .where('kind', '=', kind)
        .where('subject_id', 'in', [...subjectIds])
        .where('status', '=', 'pending')
        .where('batch_window', 'is not', null)
        .where('run_at', '>', now)
        .execute()
      return new Map(
        rows.map((row) => [
          row.subject_id,
          { window: row.batch_window as string, until: Number(row.run_at) },
        ]),
      )
    },
    async openJob(kind, subjectId) {
      const row = await storage.db
        .selectFrom('jobs')
        .select(['status', 'run_at'])
        .where('kind', '=', kind)
        .where('subject_id', '=', subjectId)
        .where('status', 'in', ['pending', 'failed', 'processing'])
        .executeTakeFirst()
      return row ? { status: row.status as OpenJobStatus, runAt: Number(row.run_at) } : undefined
    },
    async releaseGroup(kind, groupKey, waitingFor, now) {
      const waiting = (eb: ExpressionBuilder<Database, 'jobs'>) =>
        eb.and([
          eb('group_key', '=', groupKey),
          eb('kind', '=', kind),
          eb('status', 'in', ['pending', 'failed']),
          eb('run_at', '>', now),
          eb(eb.fn('substr', ['last_error', eb.val(1), eb.val(waitingFor.length)]), '=', waitingFor),
        ])
      // Mostly none wait: a read, on the reading connection, spares the attempt a write transaction.
      const any = await readsOf(storage)
        .selectFrom('jobs')
        .select('id')
        .where(waiting)
        .limit(1)
        .executeTakeFirst()
      if (!any) return 0
      const result = await storage.transact((trx) =>
        trx
          .updateTable('jobs')
          .set({ run_at: now, updated_at: new Date(now).toISOString() })
          .where(waiting)
          .executeTakeFirst(),
      )
      return Number(result.numUpdatedRows)
    },
  }
}
