import envSchema from 'env-schema'
import { type Static, Type } from 'typebox'
import { DEFAULT_LROE_AT, LROE_AT_PATTERN } from './markets/es/ticketbai/lroe-window.ts'

const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  HOST: Type.String({ default: '0.0.0.0' }),
  DATABASE_URL: Type.String({
    default: 'sqlite:./data/fiscalbox.db',
    pattern: '^(sqlite:|postgres(ql)?://)',
  }),
  FISCALBOX_DATA_DIR: Type.String({ default: './data' }),
  FISCALBOX_MASTER_KEY: Type.Optional(Type.String({ minLength: 32 })),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
  BODY_LIMIT: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024 }),
  PG_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 20 }),
  PAYMENT_SIMULATOR: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  /** Failed authentications one client address may make at once before it is answered 429 (docs/reliability.md). */
  AUTH_FAILURE_BURST: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 20 }),
  /** How many failed authentications per minute a client address regains after its burst. */
  AUTH_FAILURES_PER_MINUTE: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, default: 10 }),
  // Transactions API v1 and its outbox (docs/transactions-api-v1.md, docs/jobs.md)
  FISCALBOX_LIVE_ENABLED: Type.Boolean({ default: false }),
  RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 1, default: 100 }),
  RATE_LIMIT_BURST: Type.Integer({ minimum: 1, default: 200 }),
  JOBS_WORKERS: Type.Boolean({ default: true }),
  JOBS_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
  /** Submission jobs one worker loop claims at once (batched per location, up to 1000 per AEAT submission). */
  JOBS_SUBMISSION_CLAIM_BATCH: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
  JOBS_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
  JOBS_BACKOFF_BASE_MS: Type.Integer({ minimum: 1, default: 1000 }),
  JOBS_BACKOFF_MAX_MS: Type.Integer({ minimum: 1, default: 3_600_000 }),
  WEBHOOK_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
  // Spain (docs/country-es.md "Transactions API v1"): where test-environment records go
  FISCALBOX_ES_SIMULATOR_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** Without a simulator URL, `serve` starts the simulator in-process for test records (off: none). */
  FISCALBOX_ES_SIMULATOR: Type.Union([Type.Literal('in-process'), Type.Literal('off')], {
    default: 'in-process',
  }),
  FISCALBOX_ES_VERIFACTU_ENDPOINT: Type.Optional(Type.String({ pattern: '^https://' })),
  FISCALBOX_ES_PRODUCER_NIF: Type.Optional(Type.String({ pattern: '^[0-9A-Z][0-9]{7}[0-9A-Z]$' })),
  FISCALBOX_ES_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 300_000, default: 30_000 }),
  /** When Bizkaia's LROE batches go out: HH:MM UTC once a day, or `immediate` (each record when stored). */
  FISCALBOX_ES_LROE_AT: Type.String({ pattern: LROE_AT_PATTERN, default: DEFAULT_LROE_AT }),
})

export type Config = Static<typeof ConfigSchema>

/** Reads the configuration from the environment; a bad value stops start-up with the variable's name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return envSchema<Config>({ schema: ConfigSchema, data: env, dotenv: false })
  } catch (error) {
    throw new Error(`configuration error: ${(error as Error).message}`)
  }
}
