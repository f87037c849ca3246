import type { Command } from 'commander'
import type { FastifyPluginAsync } from 'fastify'
import type { Database as SqliteConnection } from 'better-sqlite3'
import type { ColumnType, Kysely, Migration, Transaction } from 'kysely'
import type { TProperties } from 'typebox'
import type { CertificateSource } from '../core/certificates/certificates.ts'
import type { CredentialSource } from '../core/credentials.ts'
import type { Market } from '../core/market.ts'
import type { JobStatus, NewJob } from '../core/outbox.ts'
import type { CashboxRecord, UnitOfWork } from '../core/ports.ts'
import type { MasterKey } from '../core/secrets.ts'
import type { SigningKeys } from '../core/signing-keys.ts'
import type { BatchWindow } from '../core/v1/model.ts'
import type { JobHandler } from '../jobs/engine.ts'
import type { Runtime } from '../runtime.ts'

/**
 * The database a module's own store runs on, typed by the module with its own tables. storage/ opens it
 * and hands it over (storage/module-database.ts), so a module keeps its tables, migrations and SQL in its
 * folder (one file, `store.ts` or `store/`), never imports storage/, and storage/ names no country.
 */
export interface ModuleDatabase<Tables> {
  readonly engine: 'sqlite' | 'postgres'
  readonly db: Kysely<Tables>
  /** A durable transaction: the promise settles only after the commit reached the disk. */
  transact<T>(work: (trx: Transaction<Tables>) => Promise<T>): Promise<T>
  /** The storage transaction of a receipt's unit of work, for the statements a market runs in seal. */
  transactionOf(unit: UnitOfWork): Transaction<Tables>
  /**
   * SQLite only: the connections under db, for prepared statements on a receipt's hot path. The writer
   * only inside transact() or a unit of work, where the group commit holds it in its transaction.
   */
  readonly sqlite?: { readonly writer: SqliteConnection; readonly reader: SqliteConnection }
  /** The outbox of every surface, for a market whose records go out later (its jobs' handlers in `jobs`). */
  readonly outbox: ModuleOutbox
  /** The account a queue's cash box belongs to (the owner of the jobs its receipts enqueue). */
  accountOfQueueIn(unit: UnitOfWork, queueId: string): Promise<string>
}

export interface ModuleOutbox {
  /** Writes a pending job in the receipt's transaction, so that both or neither are stored. */
  enqueueIn(unit: UnitOfWork, job: NewJob): Promise<void>
  /** Of these jobs of a kind (by subject id), the pending ones held for a batch window until after `now`. */
  heldFor(
    kind: string,
    subjectIds: readonly string[],
    now: number,
  ): Promise<Map<string, { window: string; until: number }>>
  /** The open job (pending, failed, or claimed: processing) of a kind for a subject, when there is one. */
  openJob(kind: string, subjectId: string): Promise<{ status: OpenJobStatus; runAt: number } | undefined>
  /**
   * Makes the open jobs of a kind and group that wait past `now` for the reason `waitingFor` (their last
   * error starts with it) due at `now`: what they waited for happened. The number of jobs made due.
   */
  releaseGroup(kind: string, groupKey: string, waitingFor: string, now: number): Promise<number>
}

export type OpenJobStatus = Extract<JobStatus, 'pending' | 'failed' | 'processing'>

/**
 * A market's own services (`market[key]`: configuration, exports...) from a market registry, for the
 * module's HTTP surfaces, CLI commands and jobs. Throws when the registry has no such market.
 */
export function marketServices<S>(
  marketFor: (countryCode: number) => Market,
  countryCode: number,
  key: string,
): S {
  const market = marketFor(countryCode) as Market & Record<string, unknown>
  if (!(key in market)) throw new Error(`the market registry has no market with ${key} services`)
  return market[key] as S
}

/** Counters are int8 on PostgreSQL; storage's pg type parser returns them as numbers. */
export type Count = ColumnType<number, number, number>

/** SQLite and PostgreSQL name a UNIQUE / PRIMARY KEY violation differently. */
export const isUniqueViolation = (error: unknown): boolean => {
  const code = String((error as { code?: unknown }).code ?? '')
  return (
    code === '23505' || code.startsWith('SQLITE_CONSTRAINT_PRIMARYKEY') || code === 'SQLITE_CONSTRAINT_UNIQUE'
  )
}

/**
 * The stores each market reads and writes, keyed by the module's country. Each module adds its own key
 * (`declare module '../module.ts'`) and builds them in `stores`, so that the compiler names a country
 * whose stores are not typed.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface MarketStores {}

/** Per-country options of `openRuntime` (e.g. where Spanish records go), added by each module like the stores. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface MarketSettings {}

/** What a module's /v2/sign market is built with, once per process. */
export interface MarketContext {
  stores: MarketStores
  /** Secrets a market keeps at rest (AES keys, PUKs) are sealed by the master key. */
  master: MasterKey
  /** Where its signing keys are made and opened: sealed by the master key, or in a PKCS#11 token. */
  keys: SigningKeys
  /** The accounts' stored certificates (core/certificates), e.g. a taxpayer's that signs and authenticates. */
  certificates: CertificateSource
  settings: MarketSettings
  /** The outbox's clock (epoch milliseconds; tests move it). */
  clock: () => number
  /** Attempts of an outbox job before the dead letter (JOBS_MAX_ATTEMPTS), when configured. */
  maxAttempts?: number
}

/** How one of the module's error codes is answered over HTTP (merged into api/errors.ts' one table). */
export interface ErrorCodeSpec {
  status: number
  title: string
}

/** A surface of the module, mounted under its prefix by api/app.ts. */
export interface MarketRoutes {
  prefix: string
  plugin(runtime: Runtime): FastifyPluginAsync
}

/** What `fiscalbox serve` starts for the module from the environment. */
export interface ServedMarket {
  settings?: MarketSettings
  /** Lines for the start-up banner. */
  banner?: string[]
  close?(): Promise<void>
}

/** `fiscalbox verify FILE` for the module's own export formats. */
export interface MarketVerify {
  /** Shown after the command's own help. */
  help?: string
  /** Options only the module's formats use, e.g. `--keys <file>`. */
  options?: readonly { flags: string; description: string }[]
  /** Checks and reports FILE when it is in one of the module's formats; false: it is not. */
  run(file: string, options: { json?: boolean } & Record<string, unknown>): Promise<boolean>
}

/** The bounds an export takes (inclusive); what they mean is the format's `period`. */
export interface ExportPeriod {
  from?: string
  to?: string
}

/** How far an export is: items written so far and, once known, how many there are. */
export type ExportProgress = (done: number, total?: number) => void

/** What an export wrote: its files in order (one, or parts of a format split by its law) and its items. */
export interface ExportWritten {
  files: string[]
  items: number
}

/** The result of checking an export's files with the checks `fiscalbox verify` runs on them. */
export interface ExportVerdict {
  ok: boolean
  /** One line, as `fiscalbox verify` prints it when nothing is wrong. */
  summary: string
  problems: string[]
}

/**
 * An audit export of a cash box: `fiscalbox export ...` and the dashboard's export page run the same
 * `write` and `verify`, so a format is written and checked one way wherever it is started.
 */
export interface ExportFormat {
  /** `{country}-{name}`, e.g. `de-tar`: kept with each dashboard export run. */
  readonly id: string
  /** What the operator picks, e.g. `TSS TAR export (TR-03151)`. */
  readonly label: string
  /** Of the written files: the extension (with its dot) and the media type of the download. */
  readonly extension: string
  readonly mediaType: string
  /** What `from` and `to` are for this format; absent: it takes no period and exports everything. */
  readonly period?: { from: string; to?: string; required?: boolean }
  /** Refuses bad bounds (an error naming `from` or `to`) before anything is started or written. */
  checkPeriod?(period: ExportPeriod): void
  /** Whether it applies to this cash box of the module's country (absent: to each of them). */
  appliesTo?(runtime: Runtime, cashbox: CashboxRecord): Promise<boolean>
  /** Writes the export of `cashbox` to the file `out` (parts after the first beside it: `out-2`...). */
  write(
    runtime: Runtime,
    cashbox: CashboxRecord,
    period: ExportPeriod,
    out: string,
    progress: ExportProgress,
  ): Promise<ExportWritten>
  /**
   * Checks written files as `fiscalbox verify` does, with the key material the cash box holds; absent:
   * `fiscalbox verify` has no check for the format.
   */
  verify?(runtime: Runtime, cashbox: CashboxRecord, files: readonly string[]): Promise<ExportVerdict>
}

/**
 * Everything a country adds to fiscalbox. src/markets/index.ts lists the modules; the composition root,
 * the HTTP app, the CLI, the configuration, the migrations and the error table iterate that list.
 */
export interface MarketModule {
  /** ISO 3166-1 alpha-2 code; its two letters are the top 16 bits of the case codes (`EU` for generic). */
  readonly country: string
  /**
   * The module's stores on the process's database (its key in `MarketStores`), built once by the
   * composition root and handed to `market` as `context.stores`.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each module types it with its own tables
  stores?(database: ModuleDatabase<any>): MarketStores[keyof MarketStores]
  /** The /v2/sign market; absent: the country is served by the generic market. */
  market?(context: MarketContext): Market | Promise<Market>
  /**
   * Transactions API v1: the module's market signs the country's locations too, each on a cash box of its
   * own per environment, with the location's country_config as the market's cash box settings
   * (core/v1/market-signed.ts; a market with `transactions` seals them in their commit and delivers them
   * itself). Otherwise a location of the country gets generic records.
   */
  readonly marketSignsTransactions?: boolean
  /**
   * Batch windows the module's authority takes records in (each typed by adding it to core/v1/model.ts'
   * `BatchWindows`): a record held for one has the transaction status `pending_<window>` on /v1, and
   * POST /v1/batches/<window>/run releases it.
   */
  batchWindows?: readonly BatchWindow[]
  /** The certificates and keys the module's market signs with, for the expiry inventory. */
  credentials?(runtime: Runtime): CredentialSource
  /** Outbox handlers of the module's jobs, registered on the runtime's job engine. */
  jobs?(runtime: Runtime): JobHandler[]
  /**
   * The module's HTTP surfaces. Loaded on demand, like `commands`: the module list is read by storage and
   * the configuration too, which must not pull in the HTTP stack or the CLI (nor import them in a cycle).
   */
  routes?(): Promise<readonly MarketRoutes[]>
  /**
   * The audit exports of the module's cash boxes, for the dashboard and `fiscalbox export`. Loaded on
   * demand like `routes`: formats pull in their writers and verifiers.
   */
  exports?(): Promise<readonly ExportFormat[]>
  /** Adds the module's commands to `fiscalbox` and to `fiscalbox export`. */
  commands?(program: Command, exporter: Command): Promise<void>
  verify?: MarketVerify
  /** The module's schema changes, by migration name (names sort into the one global order). */
  migrations?: Readonly<Record<string, Migration>>
  /** Error codes the module's services throw; the code is the wire string. */
  errors?: Readonly<Record<string, ErrorCodeSpec>>
  /** The module's environment variables (TypeBox properties), merged into the configuration schema. */
  config?: TProperties
  /** `fiscalbox serve`: what the module starts from the validated configuration. */
  serve?(config: Record<string, unknown>): Promise<ServedMarket>
}
