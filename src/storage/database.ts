import { closeSync, fdatasync, mkdirSync, openSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Transaction } from 'kysely'
import pg from 'pg'
import { startCheckpointer } from './checkpointer.ts'
import { type CommitObserver, GroupCommit } from './group-commit.ts'
import { migrations } from './migrations/index.ts'
import type { Database } from './schema.ts'
import { WriteFailures } from './write-failures.ts'

export type Engine = 'sqlite' | 'postgres'

export interface Storage {
  readonly engine: Engine
  readonly db: Kysely<Database>
  /** Runs work in a durable transaction: the promise settles only after the commit reached the disk. */
  transact<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>
  /**
   * The code of the last write that failed because of the store itself (full disk, I/O error), until a
   * write succeeds; undefined while writes succeed.
   */
  writeFailure(): string | undefined
  /** One small write (the meta row `write_probe`): after a write failure, tells whether writes work again. */
  probeWrite(): Promise<void>
  /** SQLite only: the connections under db, for the receipt hot path's prepared statements (ledger.ts). */
  readonly sqlite?: SqliteConnections
  /** PostgreSQL only: the connection pool's use now. */
  poolUse?(): PoolUse
  close(): Promise<void>
}

export interface SqliteConnections {
  /**
   * The one writing connection, also the one behind db. Use it only inside transact(): there the group
   * commit holds it in a transaction, so no other statement can run on it in between.
   */
  readonly writer: SqliteDatabase.Database
  /**
   * A read-only connection. In WAL mode it sees only committed transactions, never the group commit's
   * open one, so reads made outside transact() cannot answer from work that is not durable yet.
   */
  readonly reader: SqliteDatabase.Database
  /** Settles when everything committed so far is on disk: a replay of a stored answer waits for it. */
  durable(): Promise<void>
}

export interface PoolUse {
  max: number
  open: number
  idle: number
  /** Callers waiting for a connection. */
  waiting: number
}

export interface StorageOptions {
  poolSize?: number
  /** Told of each durable commit (metrics); on PostgreSQL each unit of work is one. */
  observeCommit?: CommitObserver
}

const fdatasyncWal = (fd: number) =>
  new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())))

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

export async function openStorage(url: string, options: StorageOptions = {}): Promise<Storage> {
  const { engine, location } = describeDatabaseUrl(url)
  const observeCommit = options.observeCommit ?? (() => {})
  if (engine === 'postgres') {
    const storage = openPostgres(url, options.poolSize ?? 20, observeCommit)
    await migrate(storage.db)
    return storage
  }
  return openSqlite(location, observeCommit)
}

/** Page cache per connection: the hot indexes of a queue with millions of receipts stay in memory. */
const SQLITE_CACHE_KIB = 64 * 1024
/** 256 MiB of WAL: a backstop, normally never reached (see checkpointer.ts). */
const WRITER_CHECKPOINT_PAGES = 65_536

async function openSqlite(file: string, observeCommit: CommitObserver): Promise<Storage> {
  mkdirSync(dirname(file), { recursive: true })
  // Made here with mode 0600, as the master key file is: it holds token hashes and sealed keys. SQLite
  // gives the -wal and -shm files it makes the mode of the database file. An existing file keeps its mode.
  closeSync(openSync(file, 'a', 0o600))
  const writer = new SqliteDatabase(file)
  writer.pragma('journal_mode = WAL')
  // NORMAL: a commit writes the WAL without waiting for the disk; the group commit fdatasyncs the WAL off the
  // event loop and answers only after that (see group-commit.ts), so an answered request survives a power cut.
  writer.pragma('synchronous = NORMAL')
  writer.pragma('busy_timeout = 5000')
  writer.pragma('foreign_keys = ON')
  writer.pragma(`cache_size = -${SQLITE_CACHE_KIB}`)
  // The group commit's savepoints keep each page's old content in a statement journal until the
  // transaction ends; in memory rather than in a temporary file, that halves the cost of an insert.
  writer.pragma('temp_store = MEMORY')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: writer }) })
  try {
    await migrate(db)
  } catch (error) {
    await db.destroy()
    throw error
  }
  // Opened after the migration: the schema exists, and WAL mode (a property of the file) is set.
  const reader = new SqliteDatabase(file, { readonly: true, fileMustExist: true })
  reader.pragma('busy_timeout = 5000')
  reader.pragma(`cache_size = -${SQLITE_CACHE_KIB}`)
  // fsync works on any descriptor of a file: this one exists only to sync the WAL that the writer appends to.
  // The WAL lives as long as a connection is open, and the writer stays open until close().
  const wal = openSync(`${file}-wal`, 'r')
  const group = new GroupCommit(db, writer, () => fdatasyncWal(wal), observeCommit)
  // Checkpoints run in a worker; the writer checkpoints by itself only if the worker falls far behind.
  writer.pragma(`wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`)
  const checkpointer = startCheckpointer(file)
  return {
    engine: 'sqlite',
    db,
    ...watchedWrites((work) => group.run(work)),
    sqlite: { writer, reader, durable: () => group.durable() },
    close: async () => {
      await checkpointer.stop()
      reader.close()
      await db.destroy()
      closeSync(wal)
    },
  }
}

/** How long opening one connection may take before the database counts as not answering (503). */
const CONNECT_TIMEOUT_MS = 30_000

/**
 * Opening a connection is bounded, so that a database that does not answer at all is reported; waiting for a
 * pooled connection is not: under load that wait is a queue, and a pool timeout answered load with false 503s
 * ("timeout exceeded when trying to connect").
 */
class BoundedConnectClient extends pg.Client {
  constructor(config: pg.ClientConfig = {}) {
    super({ ...config, connectionTimeoutMillis: CONNECT_TIMEOUT_MS })
  }
}

function openPostgres(url: string, poolSize: number, observeCommit: CommitObserver): Storage {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, Client: BoundedConnectClient })
  // An idle client losing its server (restart, dropped connection) must not crash the process.
  pool.on('error', () => {})
  // Nor may a checked-out one: between two statements of a unit of work no query is active, so pg emits the
  // lost connection as an 'error' event of the client, which the pool listens to only while it is idle. The
  // unit's next statement fails instead (answered 503), and the pool drops the client when it is released.
  pool.on('connect', (client) => client.on('error', () => {}))
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return {
    engine: 'postgres',
    db,
    // PostgreSQL groups concurrent commits into shared WAL flushes by itself.
    ...watchedWrites(async (work) => {
      const began = performance.now()
      const result = await db.transaction().execute(work)
      observeCommit(1, (performance.now() - began) / 1000)
      return result
    }),
    poolUse: () => ({
      max: poolSize,
      open: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
    }),
    close: () => db.destroy(),
  }
}

type Transact = Storage['transact']

/** An engine's transact, with the memory of its last write failure and the probe that clears it. */
function watchedWrites(transact: Transact): Pick<Storage, 'transact' | 'writeFailure' | 'probeWrite'> {
  const failures = new WriteFailures()
  const watched: Transact = (work) => failures.watch(transact(work))
  return {
    transact: watched,
    writeFailure: () => failures.current,
    probeWrite: async () => {
      // A write of some size, removed again: a small one fits into the WAL space a failed transaction left
      // behind and would succeed while the next receipt still finds the disk full.
      await watched((trx) =>
        trx
          .insertInto('meta')
          .values({ key: WRITE_PROBE, value: 'x'.repeat(WRITE_PROBE_BYTES) })
          .onConflict((c) => c.column('key').doUpdateSet({ value: (eb) => eb.ref('excluded.value') }))
          .execute(),
      )
      await watched((trx) => trx.deleteFrom('meta').where('key', '=', WRITE_PROBE).execute())
    },
  }
}

const WRITE_PROBE = 'write_probe'
const WRITE_PROBE_BYTES = 256 * 1024

async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName
    throw new Error(`database migration ${failed ?? ''} failed: ${(error as Error).message}`)
  }
}
