import type { Config } from './config.ts'
import type { Certificates } from './core/certificates/certificates.ts'
import { RateLimiter } from './core/rate-limiter.ts'
import type { MasterKey } from './core/secrets.ts'
import { Accounts } from './core/v1/accounts.ts'
import { DeliveryOutcomes } from './core/v1/delivery-outcomes.ts'
import type { Fiscalizer } from './core/v1/fiscalizer.ts'
import { type TransactionDeliveries, transactionDeliveries } from './core/v1/market-signed.ts'
import type { JobStore } from './core/v1/ports.ts'
import { Transactions } from './core/v1/transactions.ts'
import { Webhooks } from './core/v1/webhooks.ts'
import { DEFAULT_ENGINE_SETTINGS, type EngineSettings, JobEngine } from './jobs/engine.ts'
import { fiscalizeHandler } from './jobs/fiscalize.ts'
import { webhookDeliveryHandler } from './jobs/webhook-delivery.ts'
import { createFiscalizerRegistry } from './markets/fiscalizers.ts'
import { batchWindows } from './markets/index.ts'
import type { Storage } from './storage/database.ts'
import { accountStore, webhookStore } from './storage/repositories/v1-accounts.ts'
import { jobStore } from './storage/repositories/outbox-jobs.ts'
import { transactionStore } from './storage/repositories/v1-transactions.ts'

/** Settings of the transactions API v1 and its outbox; `v1OptionsFromConfig` reads them from the environment. */
export interface V1Options {
  liveEnabled: boolean
  engine: EngineSettings
  webhookMaxAttempts: number
  webhookTimeoutMs: number
  defaultInlineTimeoutMs: number
  /**
   * Most submission jobs one worker loop claims at once. They are batched per location (VERI*FACTU and
   * Bizkaia's LROE take up to 1000 records per submission), so a backlog drains in few large submissions.
   */
  submissionClaimBatch: number
  /** Epoch milliseconds: the outbox's and the seals' time, injectable so that tests move it. */
  clock: () => number
  rateLimit: { perMinute: number; burst: number }
  /** Fiscalizers by `{country}` or `{country}:{system}` (e.g. `ES:verifactu`); generic serves the rest. */
  fiscalizers: Record<string, Fiscalizer>
}

export const DEFAULT_V1_OPTIONS: V1Options = {
  liveEnabled: false,
  engine: DEFAULT_ENGINE_SETTINGS,
  webhookMaxAttempts: 20,
  webhookTimeoutMs: 10_000,
  defaultInlineTimeoutMs: 5_000,
  submissionClaimBatch: 1_000,
  clock: Date.now,
  rateLimit: { perMinute: 100, burst: 200 },
  fiscalizers: {},
}

export type V1Settings = Partial<Omit<V1Options, 'engine'>> & { engine?: Partial<EngineSettings> }

export function v1OptionsFromConfig(config: Config): V1Settings {
  return {
    liveEnabled: config.FISCALBOX_LIVE_ENABLED,
    webhookMaxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
    submissionClaimBatch: config.JOBS_SUBMISSION_CLAIM_BATCH,
    rateLimit: { perMinute: config.RATE_LIMIT_PER_MINUTE, burst: config.RATE_LIMIT_BURST },
    engine: {
      concurrency: config.JOBS_CONCURRENCY,
      maxAttempts: config.JOBS_MAX_ATTEMPTS,
      backoffBaseMs: config.JOBS_BACKOFF_BASE_MS,
      backoffMaxMs: config.JOBS_BACKOFF_MAX_MS,
    },
  }
}

export interface V1Runtime {
  /** The settings in force (defaults filled in). */
  options: V1Options
  accounts: Accounts
  /** The accounts' certificates (POST /v1/certificates, `fiscalbox certificates`). */
  certificates: Certificates
  transactions: Transactions
  webhooks: Webhooks
  jobs: JobEngine
  jobStore: JobStore
  /** How the delivery jobs of a market that seals transactions itself settle them (market-signed.ts). */
  deliveries: TransactionDeliveries
  rateLimiter: RateLimiter
  /** Starts this process's outbox workers (serve does; CLI commands and some tests do not). */
  start(): void
  stop(): Promise<void>
}

export function createV1Runtime(
  storage: Storage,
  master: MasterKey,
  settings: V1Settings,
  certificates: Certificates,
): V1Runtime {
  const options: V1Options = {
    ...DEFAULT_V1_OPTIONS,
    ...settings,
    engine: { ...DEFAULT_ENGINE_SETTINGS, ...settings.engine },
  }
  const fiscalizerFor = createFiscalizerRegistry(options.fiscalizers)
  const accountsStore = accountStore(storage)
  const webhooksStore = webhookStore(storage)
  const transactionsStore = transactionStore(storage)
  const jobs = jobStore(storage)
  const engine = new JobEngine(jobs, options.engine, options.clock)
  const accounts = new Accounts(accountsStore, master, fiscalizerFor, { liveEnabled: options.liveEnabled })
  const webhooks = new Webhooks(webhooksStore, master)
  const transactions = new Transactions(
    transactionsStore,
    accountsStore,
    async (location) => ({
      signer: await accounts.signer(location.id),
      certificate: await certificates.ofLocation(location),
    }),
    fiscalizerFor,
    engine,
    {
      maxAttempts: options.engine.maxAttempts,
      webhookMaxAttempts: options.webhookMaxAttempts,
      defaultInlineTimeoutMs: options.defaultInlineTimeoutMs,
      clock: options.clock,
      batchWindows,
    },
  )
  engine.register(
    fiscalizeHandler({
      transactions: transactionsStore,
      jobs,
      locations: accountsStore,
      fiscalizerFor,
      webhookMaxAttempts: options.webhookMaxAttempts,
      claimBatch: options.submissionClaimBatch,
      clock: options.clock,
    }),
  )
  engine.register(
    webhookDeliveryHandler({ webhooks, deliveries: webhooksStore, timeoutMs: options.webhookTimeoutMs }),
  )
  return {
    options,
    accounts,
    certificates,
    transactions,
    webhooks,
    jobs: engine,
    jobStore: jobs,
    deliveries: transactionDeliveries(
      transactionsStore,
      new DeliveryOutcomes(batchWindows, options.webhookMaxAttempts),
    ),
    rateLimiter: new RateLimiter({
      capacity: options.rateLimit.burst,
      refillPerSecond: options.rateLimit.perMinute / 60,
    }),
    start: () => engine.start(),
    stop: () => engine.stop(),
  }
}
