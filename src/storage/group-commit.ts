import { type Kysely, sql, type Transaction } from 'kysely'
import type { Database } from './schema.ts'

type Work<T> = (trx: Transaction<Database>) => Promise<T>

interface Pending {
  work: Work<unknown>
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/**
 * Group commit for the embedded engine. A commit costs one fsync (~0.4 ms here), so committing every
 * receipt on its own caps a node at ~2,500 receipts/s. Work submitted while a commit is running is
 * collected and run in the next transaction, each item inside its own savepoint so that one failing item
 * rolls back alone. Every caller is answered only after the transaction holding its work has committed.
 */
export class GroupCommit {
  private pending: Pending[] = []
  private flushing = false

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxBatch = 512,
  ) {}

  run<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject })
      if (!this.flushing) void this.flush()
    })
  }

  private async flush(): Promise<void> {
    this.flushing = true
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch)
        await this.commitBatch(batch)
      }
    } finally {
      this.flushing = false
    }
  }

  private async commitBatch(batch: Pending[]): Promise<void> {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = []
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const item of batch) {
          await sql`savepoint item`.execute(trx)
          try {
            outcomes.push({ ok: true, value: await item.work(trx) })
            await sql`release savepoint item`.execute(trx)
          } catch (error) {
            await sql`rollback to savepoint item`.execute(trx)
            await sql`release savepoint item`.execute(trx)
            outcomes.push({ ok: false, error })
          }
        }
      })
    } catch (error) {
      for (const item of batch) item.reject(error)
      return
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]
      if (outcome?.ok) item.resolve(outcome.value)
      else item.reject(outcome?.error)
    })
  }
}
