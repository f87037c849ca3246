import envSchema from 'env-schema'
import { type Static, type TObject, Type } from 'typebox'
import { marketModules } from './markets/index.ts'

/** The core's variables; each market module adds its own (`config` in markets/<cc>/module.ts). */
const CORE_CONFIG = {
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
  /**
   * The public base of the links fiscalbox hands out (DocumentURL of /v2/issue), e.g.
   * https://receipts.example.com; never taken from a request's Host header. Unset: the loopback address
   * the server listens on, which serves the quick start on the same machine (docs/receipts.md).
   */
  PUBLIC_URL: Type.Optional(
    Type.String({
      pattern: '^https?://([A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\])(:\\d{1,5})?(/[A-Za-z0-9._~/-]*)?$',
    }),
  ),
  /**
   * Keys of new queues, TSSs and signature devices in a PKCS#11 token (docs/hsm.md): the module, which token
   * (slot id or label), and its user PIN from the variable or from a file; the PIN is never logged.
   */
  FISCALBOX_PKCS11_MODULE: Type.Optional(Type.String({ minLength: 1 })),
  FISCALBOX_PKCS11_SLOT: Type.Optional(Type.Integer({ minimum: 0 })),
  FISCALBOX_PKCS11_TOKEN_LABEL: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  FISCALBOX_PKCS11_PIN: Type.Optional(Type.String({ minLength: 1 })),
  FISCALBOX_PKCS11_PIN_FILE: Type.Optional(Type.String({ minLength: 1 })),
  BODY_LIMIT: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024 }),
  PG_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 20 }),
  PAYMENT_SIMULATOR: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  /** Failed authentications one client address may make at once before it is answered 429 (docs/reliability.md). */
  AUTH_FAILURE_BURST: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 20 }),
  /** How many failed authentications per minute a client address regains after its burst. */
  AUTH_FAILURES_PER_MINUTE: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, default: 10 }),
  /**
   * Where the dashboard writes its exports (default: FISCALBOX_DATA_DIR/exports); a folder every node
   * mounts lets any node serve a download.
   */
  DASHBOARD_EXPORTS_DIR: Type.Optional(Type.String({ minLength: 1 })),
  /** The dashboard cookies' Secure attribute: auto (HTTPS requests only), always (behind a TLS proxy), never. */
  DASHBOARD_SECURE_COOKIES: Type.Union(
    [Type.Literal('auto'), Type.Literal('always'), Type.Literal('never')],
    {
      default: 'auto',
    },
  ),
  /** GET /metrics (docs/operations.md): on the main port for this bearer token, or on METRICS_PORT. */
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  METRICS_HOST: Type.String({ default: '127.0.0.1' }),
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
}

export type Config = Static<TObject<typeof CORE_CONFIG>>

/** Reads the configuration from the environment; a bad value stops start-up with the variable's name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const schema = Type.Object(
    Object.assign({ ...CORE_CONFIG }, ...marketModules.map((module) => module.config ?? {})),
  )
  try {
    return envSchema<Config>({ schema, data: env, dotenv: false })
  } catch (error) {
    throw new Error(`configuration error: ${(error as Error).message}`)
  }
}
