import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Transaction } from 'kysely'
import pg from 'pg'
import { GroupCommit } from './group-commit.ts'
import * as initial from './migrations/001-initial.ts'
import type { Database } from './schema.ts'

export type Engine = 'sqlite' | 'postgres'

export interface Storage {
  readonly engine: Engine
  readonly db: Kysely<Database>
  /** Runs work in a durable transaction: the promise settles only after the commit reached the disk. */
  transact<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>
  close(): Promise<void>
}

// int8 counters (rows, receipt numbers) stay far below 2^53; reading them as numbers keeps one code path.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10))

export function describeDatabaseUrl(url: string): { engine: Engine; location: string } {
  if (url.startsWith('sqlite:')) return { engine: 'sqlite', location: resolve(url.slice('sqlite:'.length)) }
  if (/^postgres(ql)?:\/\//.test(url))
    return { engine: 'postgres', location: url.replace(/\/\/[^@/]*@/, '//***@') }
  throw new Error(
    `DATABASE_URL must start with sqlite: or postgres:// (got ${JSON.stringify(url.slice(0, 30))})`,
  )
}

export async function openStorage(url: string, options: { poolSize?: number } = {}): Promise<Storage> {
  const { engine, location } = describeDatabaseUrl(url)
  const storage = engine === 'sqlite' ? openSqlite(location) : openPostgres(url, options.poolSize ?? 20)
  await migrate(storage.db)
  return storage
}

function openSqlite(file: string): Storage {
  mkdirSync(dirname(file), { recursive: true })
  const database = new SqliteDatabase(file)
  database.pragma('journal_mode = WAL')
  // FULL makes every commit fsync the WAL: an answered request survives a power cut.
  database.pragma('synchronous = FULL')
  database.pragma('busy_timeout = 5000')
  database.pragma('foreign_keys = ON')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) })
  const group = new GroupCommit(db)
  return {
    engine: 'sqlite',
    db,
    transact: (work) => group.run(work),
    close: () => db.destroy(),
  }
}

function openPostgres(url: string, poolSize: number): Storage {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5000 })
  // An idle client losing its server (restart, dropped connection) must not crash the process.
  pool.on('error', () => {})
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return {
    engine: 'postgres',
    db,
    // PostgreSQL groups concurrent commits into shared WAL flushes by itself.
    transact: (work) => db.transaction().execute(work),
    close: () => db.destroy(),
  }
}

async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ '001-initial': initial }) },
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName
    throw new Error(`database migration ${failed ?? ''} failed: ${(error as Error).message}`)
  }
}
