import type { Database as SqliteDatabase, Statement } from 'better-sqlite3'
import type { ControlledTransaction, Kysely, Transaction } from 'kysely'
import type { Database } from './schema.ts'

type Work<T> = (trx: Transaction<Database>) => Promise<T>

interface Pending {
  work: Work<unknown>
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/** Makes everything committed so far durable; settles when it is on disk. */
export type SyncCommitted = () => Promise<void>

/** Told of each durable commit: how many units of work it held and its seconds from begin to on disk. */
export type CommitObserver = (units: number, seconds: number) => void

/**
 * Group commit for the embedded engine. A commit costs one fsync of the WAL (0.3 to 3 ms, more while the
 * file grows), so committing every receipt on its own caps a node at a few hundred to a few thousand
 * receipts/s. Work submitted while a commit is running is collected and run in the next transaction, each
 * item inside its own savepoint so that one failing item rolls back alone. Every caller is answered only
 * after the transaction holding its work has committed.
 *
 * The commit itself does not wait for the disk (SQLite runs with synchronous=NORMAL): `syncCommitted`
 * fdatasyncs the WAL on libuv's thread pool, and a batch is answered only when that sync, started after its
 * commit, has finished. Meanwhile the event loop reads requests and commits the next batch, so the wait for
 * the disk overlaps with work instead of stopping the process.
 *
 * Before each transaction the group commit lets the event loop run once: better-sqlite3 commits
 * synchronously, so the requests that arrived during a commit are still unread on their sockets, and
 * reading them first puts all of them into the next transaction instead of trickling into many small ones.
 */
export class GroupCommit {
  private pending: Pending[] = []
  private flushing = false
  private readonly savepoint: Statement
  private readonly release: Statement
  private readonly rollbackTo: Statement
  private lastSync: Promise<void> = Promise.resolve()
  private syncFailure: unknown

  constructor(
    private readonly db: Kysely<Database>,
    private readonly writer: SqliteDatabase,
    private readonly syncCommitted: SyncCommitted,
    private readonly observeCommit: CommitObserver = () => {},
    private readonly maxBatch = 512,
  ) {
    this.savepoint = writer.prepare('savepoint item')
    this.release = writer.prepare('release savepoint item')
    this.rollbackTo = writer.prepare('rollback to savepoint item')
  }

  /** Settles when every transaction committed so far is on disk (a read of committed data may need it). */
  durable(): Promise<void> {
    return this.lastSync
  }

  run<T>(work: Work<T>): Promise<T> {
    if (this.syncFailure) return Promise.reject(this.syncFailure)
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject })
      if (!this.flushing) void this.flush()
    })
  }

  private async flush(): Promise<void> {
    this.flushing = true
    try {
      while (this.pending.length > 0) {
        await new Promise<void>((resolve) => setImmediate(resolve))
        const batch = this.pending.splice(0, this.maxBatch)
        await this.commitBatch(batch)
      }
    } finally {
      this.flushing = false
    }
  }

  private async commitBatch(batch: Pending[]): Promise<void> {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = []
    let trx: ControlledTransaction<Database> | undefined
    const began = performance.now()
    try {
      // The transaction holds the connection (Kysely's driver lets one caller at a time use it) from begin to
      // commit. The savepoints are statements prepared once on that same connection: a Kysely query would
      // be built, compiled and prepared anew each time.
      trx = await this.db.startTransaction().execute()
      for (const item of batch) {
        this.savepoint.run()
        try {
          outcomes.push({ ok: true, value: await item.work(trx) })
          this.release.run()
        } catch (error) {
          // After a full disk or an I/O error SQLite may have rolled the whole transaction back by itself:
          // there is no savepoint left, and the next items would run outside any transaction.
          if (!this.writer.inTransaction) throw error
          this.rollbackTo.run()
          this.release.run()
          outcomes.push({ ok: false, error })
        }
      }
      await trx.commit().execute()
    } catch (error) {
      // The rollback releases the connection; when SQLite has already rolled back, it fails with "cannot
      // rollback - no transaction is active", which must not hide why the batch failed (SQLITE_FULL...).
      await trx
        ?.rollback()
        .execute()
        .catch(() => {})
      for (const item of batch) item.reject(error)
      return
    }
    const synced = this.syncCommitted()
    this.lastSync = synced
    synced.then(
      () => {
        this.observeCommit(batch.length, (performance.now() - began) / 1000)
        batch.forEach((item, i) => {
          const outcome = outcomes[i]
          if (outcome?.ok) item.resolve(outcome.value)
          else item.reject(outcome?.error)
        })
      },
      (error: unknown) => {
        // After a failed fsync the kernel may have dropped the pages it could not write: nothing committed
        // since can be promised to be on disk, so this process takes no more work (restart it).
        // Coded as SQLite codes a failed fsync: answered 503, and /health reports a store that cannot write.
        this.syncFailure = Object.assign(
          new Error(`the database file could not be synced to disk: ${String(error)}`, { cause: error }),
          { code: 'SQLITE_IOERR_FSYNC' },
        )
        for (const item of batch) item.reject(this.syncFailure)
      },
    )
  }
}
