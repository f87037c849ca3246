import type { Command } from 'commander'
import type { FastifyPluginAsync } from 'fastify'
import type { Migration } from 'kysely'
import type { TProperties } from 'typebox'
import type { Market } from '../core/market.ts'
import type { MasterKey } from '../core/secrets.ts'
import type { Fiscalizer } from '../core/v1/fiscalizer.ts'
import type { BatchWindow } from '../core/v1/model.ts'
import type { JobHandler } from '../jobs/engine.ts'
import type { Runtime } from '../runtime.ts'

/**
 * The stores each market reads and writes, keyed by the module's country. Each module adds its own key
 * (`declare module '../module.ts'`); storage/market-stores.ts implements all of them with Kysely, so that
 * markets/ never imports storage/ and the compiler names a country whose stores are not wired.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface MarketStores {}

/** Per-country options of `openRuntime` (e.g. where Spanish records go), added by each module like the stores. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface MarketSettings {}

/** What a module's /v2/sign market is built with, once per process. */
export interface MarketContext {
  stores: MarketStores
  /** Keys a market keeps at rest are sealed by the master key. */
  master: MasterKey
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
  /** Transactions API v1 fiscalizers by `{country}` or `{country}:{system}`. */
  fiscalizers?: Record<string, Fiscalizer>
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

/**
 * Everything a country adds to fiscalbox. src/markets/index.ts lists the modules; the composition root,
 * the HTTP app, the CLI, the configuration, the migrations and the error table iterate that list.
 */
export interface MarketModule {
  /** ISO 3166-1 alpha-2 code; its two letters are the top 16 bits of the case codes (`EU` for generic). */
  readonly country: string
  /** The /v2/sign market; absent: the country is served by the generic market. */
  market?(context: MarketContext): Market | Promise<Market>
  /**
   * Transactions API v1, for countries whose law requires an authority: validates a location's
   * country_config and names its fiscalizer (`{country}:{system}`). Such a location is refused rather than
   * given generic records while that fiscalizer is not registered.
   */
  fiscalizerKey?(countryConfig: Record<string, unknown>): string
  /**
   * Batch windows the module's authority takes records in (each typed by adding it to core/v1/model.ts'
   * `BatchWindows`): a record held for one has the transaction status `pending_<window>` on /v1, and
   * POST /v1/batches/<window>/run releases it.
   */
  batchWindows?: readonly BatchWindow[]
  /** Outbox handlers of the module's jobs, registered on the runtime's job engine. */
  jobs?(runtime: Runtime): JobHandler[]
  /**
   * The module's HTTP surfaces. Loaded on demand, like `commands`: the module list is read by storage and
   * the configuration too, which must not pull in the HTTP stack or the CLI (nor import them in a cycle).
   */
  routes?(): Promise<readonly MarketRoutes[]>
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
