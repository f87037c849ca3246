import type { Statement } from 'better-sqlite3'
import { type Selectable, sql, type Transaction, type WhereInterface } from 'kysely'
import {
  JOB_STATUSES,
  type JobRecord,
  type JobScope,
  type JobStats,
  type JobStatus,
} from '../../core/outbox.ts'
import type { JobEnd, OutboxStore } from '../../jobs/engine.ts'
import type { Storage } from '../database.ts'
import type { Database, JobTable } from '../schema.ts'
import { KyselyV1Unit } from './v1-transactions.ts'
import { readsOf } from './v1-reader.ts'
import { newestFirstPage } from './newest-first-page.ts'

export const toJob = (row: Selectable<JobTable>): JobRecord => ({
  id: row.id,
  accountId: row.account_id,
  kind: row.kind,
  subjectId: row.subject_id,
  groupKey: row.group_key,
  status: row.status as JobStatus,
  attempts: Number(row.attempts),
  maxAttempts: Number(row.max_attempts),
  runAt: Number(row.run_at),
  lockedBy: row.locked_by,
  lockedUntil: row.locked_until === null ? null : Number(row.locked_until),
  reconcile: Number(row.reconcile) === 1,
  lastError: row.last_error,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  completedAt: row.completed_at,
  batchWindow: row.batch_window,
})

/** Only the jobs of the scope: the account's, or one group of them. */
function inScope<Q extends WhereInterface<Database, 'jobs'>>(query: Q, scope: JobScope): Q {
  const own = query.where('account_id', '=', scope.accountId) as Q
  return scope.groupKey === undefined ? own : (own.where('group_key', '=', scope.groupKey) as Q)
}

const zeroes = (): Record<JobStatus, number> =>
  Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>

/** finishIn's update for SQLite's prepared path: a null attempts keeps the count. */
const FINISH_SQL = `update jobs set status = ?, run_at = ?, reconcile = ?, last_error = ?, completed_at = ?,
    attempts = coalesce(?, attempts), locked_by = null, locked_until = null, updated_at = ?
  where id = ? and status = 'processing' and locked_by = ? and attempts = ?`

/**
 * Records one attempt's end in `trx` if this worker still holds the job, and then its effects. On SQLite
 * through `finish`, a statement prepared once on the writer (as the ledger's): every record the outbox
 * submits ends with this update, and Kysely builds, compiles and prepares each query anew.
 */
async function finishIn(
  trx: Transaction<Database>,
  engine: Storage['engine'],
  finish: Statement<unknown[]> | undefined,
  job: JobRecord,
  patch: JobEnd['patch'],
  effects: JobEnd['effects'],
): Promise<boolean> {
  const updatedAt = new Date().toISOString()
  const reconcile = patch.reconcile ? 1 : 0
  const updated = finish
    ? finish.run(
        patch.status,
        patch.runAt,
        reconcile,
        patch.lastError,
        patch.completedAt,
        patch.attempts ?? null,
        updatedAt,
        job.id,
        job.lockedBy,
        job.attempts,
      ).changes
    : Number(
        (
          await trx
            .updateTable('jobs')
            .set({
              status: patch.status,
              run_at: patch.runAt,
              reconcile,
              last_error: patch.lastError,
              completed_at: patch.completedAt,
              ...(patch.attempts === undefined ? {} : { attempts: patch.attempts }),
              locked_by: null,
              locked_until: null,
              updated_at: updatedAt,
            })
            .where('id', '=', job.id)
            .where('status', '=', 'processing')
            .where('locked_by', '=', job.lockedBy)
            .where('attempts', '=', job.attempts)
            .executeTakeFirst()
        ).numUpdatedRows,
      )
  if (updated !== 1) return false
  await effects(new KyselyV1Unit(trx, engine))
  return true
}

/** The first open job of a chain, apart from some: what the chain's later records must wait for. */
export interface ChainHead {
  sequence: number
  runAt: number
  status: JobStatus
  attempts: number
  batchWindow: string | null
}

/** The outbox's job table: claims, attempts and the retry queue. */
export function jobStore(storage: Storage): OutboxStore & {
  /**
   * The open submission job (pending, processing, failed) with the lowest sequence in its chain of
   * fiscal records (group key `{location}:{environment}`), leaving out the given jobs.
   */
  chainHead(kind: string, groupKey: string, except: readonly string[]): Promise<ChainHead | undefined>
} {
  const db = readsOf(storage)
  const postgres = storage.engine === 'postgres'
  const writer = storage.sqlite?.writer
  let finish: Statement<unknown[]> | undefined
  // Prepared on first use, after the migrations have made the table.
  const finishStatement = () => (writer ? (finish ??= writer.prepare(FINISH_SQL)) : undefined)
  return {
    claimDue: (workerId, now, leaseMs, claims) =>
      storage.transact(async (trx) => {
        const ids: string[] = []
        for (const claim of claims) {
          let due = trx
            .selectFrom('jobs')
            .select('id')
            .where((eb) =>
              eb.or([
                eb.and([eb('status', 'in', ['pending', 'failed']), eb('run_at', '<=', now)]),
                // A worker that died mid-attempt: its lease ran out. The attempt may have reached the peer.
                eb.and([eb('status', '=', 'processing'), eb('locked_until', '<', now)]),
              ]),
            )
            // Oldest first: a chain's records were written in its order, and its later records wait for
            // its earlier ones (fiscalize), so claiming by creation sends a backlog in long runs.
            .orderBy('created_at')
            .orderBy('run_at')
            .limit(claim.limit)
          // On SQLite `+kind` keeps the kind out of the index choice: without statistics the planner takes
          // the unique (kind, subject_id) index for `kind = ?` and reads every job of the kind, completed
          // ones included, on each claim (EXPLAIN QUERY PLAN); the due jobs come from jobs_due instead.
          if (claim.only !== undefined)
            due = due.where(postgres ? sql.ref('kind') : sql`+kind`, '=', claim.only)
          if (claim.except?.length) due = due.where('kind', 'not in', claim.except)
          // Several nodes claim side by side without waiting on each other's rows.
          if (postgres) due = due.forUpdate().skipLocked()
          ids.push(...(await due.execute()).map((row) => row.id))
        }
        if (ids.length === 0) return []
        const rows = await trx
          .updateTable('jobs')
          .set((eb) => ({
            reconcile: eb.case().when('status', '=', 'processing').then(1).else(eb.ref('reconcile')).end(),
            status: 'processing',
            locked_by: workerId,
            locked_until: now + leaseMs,
            attempts: eb('attempts', '+', 1),
            updated_at: new Date(now).toISOString(),
          }))
          .where('id', 'in', ids)
          .returningAll()
          .execute()
        return rows
          .map(toJob)
          .sort((a, b) =>
            a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.runAt - b.runAt,
          )
      }),
    claimById: (id, workerId, now, leaseMs) =>
      storage.transact(async (trx) => {
        const row = await trx
          .updateTable('jobs')
          .set((eb) => ({
            status: 'processing',
            locked_by: workerId,
            locked_until: now + leaseMs,
            attempts: eb('attempts', '+', 1),
            updated_at: new Date(now).toISOString(),
          }))
          .where('id', '=', id)
          .where('status', '=', 'pending')
          .returningAll()
          .executeTakeFirst()
        return row ? toJob(row) : undefined
      }),
    finish: (job, patch, effects) =>
      storage.transact((trx) => finishIn(trx, storage.engine, finishStatement(), job, patch, effects)),
    finishAll: (ends) =>
      storage.transact(async (trx) => {
        const finish = finishStatement()
        const applied: boolean[] = []
        for (const end of ends)
          applied.push(await finishIn(trx, storage.engine, finish, end.job, end.patch, end.effects))
        return applied
      }),
    find: async (scope, id) => {
      const row = await inScope(
        db.selectFrom('jobs').selectAll().where('id', '=', id),
        scope,
      ).executeTakeFirst()
      return row ? toJob(row) : undefined
    },
    list: async (scope, { status, kind, limit, offset }) => {
      let base = inScope(db.selectFrom('jobs'), scope)
      if (status) base = base.where('status', '=', status)
      if (kind) base = base.where('kind', '=', kind)
      const { rows, total } = await newestFirstPage(base, limit, offset)
      return { data: rows.map(toJob), total }
    },
    stats: async (scope): Promise<JobStats> => {
      const [groups, due] = await Promise.all([
        inScope(db.selectFrom('jobs'), scope)
          .select(['kind', 'status', (eb) => eb.fn.countAll<number>().as('n')])
          .groupBy(['kind', 'status'])
          .execute(),
        inScope(db.selectFrom('jobs'), scope)
          .select((eb) => eb.fn.min<number | null>('run_at').as('oldest'))
          .where('status', 'in', ['pending', 'failed'])
          .executeTakeFirst(),
      ])
      const byStatus = zeroes()
      const byKind: Record<string, Record<JobStatus, number>> = {}
      for (const group of groups) {
        const status = group.status as JobStatus
        byStatus[status] += Number(group.n)
        byKind[group.kind] ??= zeroes()
        ;(byKind[group.kind] as Record<JobStatus, number>)[status] += Number(group.n)
      }
      const oldest = due?.oldest
      return {
        byStatus,
        byKind,
        oldestDueAt: oldest === null || oldest === undefined ? null : Number(oldest),
      }
    },
    revive: (scope, id, now, effects) =>
      storage.transact(async (trx) => {
        const row = await inScope(
          trx
            .updateTable('jobs')
            .set({ status: 'pending', attempts: 0, run_at: now, updated_at: new Date(now).toISOString() })
            .where('id', '=', id)
            .where('status', '=', 'dead'),
          scope,
        )
          .returningAll()
          .executeTakeFirst()
        if (!row) return undefined
        const job = toJob(row)
        await effects(new KyselyV1Unit(trx, storage.engine), job)
        return job
      }),
    releaseWindow: async (scope, window, now) => {
      const { accountId, environment, groups = [] } = scope
      const result = await storage.transact((trx) => {
        let release = inScope(
          trx
            .updateTable('jobs')
            .set({ run_at: now, updated_at: new Date(now).toISOString() })
            .where('batch_window', '=', window)
            .where('status', '=', 'pending')
            .where('run_at', '>', now),
          scope,
        )
        if (environment !== undefined)
          release = release.where((eb) =>
            eb.or([
              eb(
                'subject_id',
                'in',
                eb
                  .selectFrom('transactions')
                  .select('id')
                  .where('account_id', '=', accountId)
                  .where('environment', '=', environment),
              ),
              ...(groups.length > 0 ? [eb('group_key', 'in', groups)] : []),
            ]),
          )
        return release.executeTakeFirst()
      })
      return Number(result.numUpdatedRows)
    },
    chainHead: async (kind, groupKey, except) => {
      let open = db
        .selectFrom('jobs')
        .innerJoin('fiscal_records', 'fiscal_records.transaction_id', 'jobs.subject_id')
        .select([
          'fiscal_records.sequence',
          'jobs.run_at',
          'jobs.status',
          'jobs.attempts',
          'jobs.batch_window',
        ])
        .where('jobs.kind', '=', kind)
        .where('jobs.group_key', '=', groupKey)
        .where('jobs.status', 'in', ['pending', 'processing', 'failed'])
      if (except.length > 0) open = open.where('jobs.id', 'not in', [...except])
      const row = await open.orderBy('fiscal_records.sequence').limit(1).executeTakeFirst()
      return row
        ? {
            sequence: Number(row.sequence),
            runAt: Number(row.run_at),
            status: row.status as JobStatus,
            attempts: Number(row.attempts),
            batchWindow: row.batch_window,
          }
        : undefined
    },
    openCount: async () => {
      const row = await db
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', 'in', ['pending', 'failed', 'processing'])
        .executeTakeFirstOrThrow()
      return Number(row.n)
    },
  }
}
