import { Type } from 'typebox'
import { JOB_STATUSES } from '../../core/outbox.ts'
import { transactionStatuses, WEBHOOK_EVENTS } from '../../core/v1/model.ts'
import { PAYMENT_METHODS } from '../../core/v1/transaction-input.ts'
import { batchWindows } from '../../markets/index.ts'
import { CERTIFICATE_LIMITS } from '../certificate-input.ts'

/** TypeBox schemas of the transactions API v1: they validate requests, shape answers and feed /openapi.json. */
const literals = <T extends string>(values: readonly T[]) => Type.Enum([...values])
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()])
const Timestamp = Type.String({ description: 'ISO 8601, UTC' })
const TRANSACTION_STATUSES = transactionStatuses(batchWindows)

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    error: Type.String({
      description: 'The error message (the texts of docs/transactions-api-v1.md), e.g. `location not found`',
    }),
    code: Type.String({ description: 'The error code, e.g. validation_error' }),
    detail: Type.String(),
    message: Type.String(),
    details: Type.Optional(
      Type.Object(
        { field: Type.String(), reason: Type.String() },
        { description: 'input errors: the first' },
      ),
    ),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), reason: Type.String() }), {
        description: 'input errors: all of them',
      }),
    ),
  },
  { additionalProperties: true },
)

/**
 * Errors are answered as problem documents, so /openapi.json lists them under that media type (a
 * generated client reads them there). The cast keeps the routes' reply types: errors never pass through
 * a handler's return value, only through sendV1Problem.
 */
export const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [status, { content: { 'application/problem+json': { schema: Problem } } }]),
  ) as unknown as Record<number, typeof Problem>

export const Item = Type.Object(
  {
    description: Type.String({ minLength: 1 }),
    quantity: Type.Number({ exclusiveMinimum: 0 }),
    unit_price: Type.Number({ minimum: 0 }),
    tax_rate: Type.Number({ minimum: 0, maximum: 1, description: 'A fraction: 0.21 is 21 %' }),
  },
  { additionalProperties: true },
)

export const CreateTransactionBody = Type.Object(
  {
    location_id: Type.String({ description: 'UUID of the merchant location' }),
    timestamp: Type.String({ description: 'ISO 8601 transaction timestamp' }),
    items: Type.Array(Item, { minItems: 1 }),
    pretax_amount: Type.Number({ minimum: 0 }),
    tax_amount: Type.Number({ minimum: 0 }),
    total_amount: Type.Number({
      exclusiveMinimum: 0,
      description: 'Must equal pretax_amount + tax_amount (tolerance 0.01)',
    }),
    currency: Type.String({ description: 'ISO 4217, e.g. EUR' }),
    payment_method: literals(PAYMENT_METHODS),
    customer_context: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
)

export const Transaction = Type.Object({
  id: Type.String(),
  account_id: Type.String(),
  location_id: Type.String(),
  idempotency_key: Type.String(),
  type: literals(['sale', 'cancellation'] as const),
  status: literals(TRANSACTION_STATUSES),
  amount: Type.Integer({ description: 'Total amount in cents' }),
  currency: Type.String(),
  country: Type.String(),
  request_payload: Type.Unknown({ description: 'The original request body' }),
  response_payload: Type.Unknown({
    description: 'The sealed record and the authority answer, when available',
  }),
  fiscal_id: nullable(Type.String()),
  environment: literals(['test', 'live'] as const),
  error_message: nullable(Type.String()),
  original_transaction_id: nullable(
    Type.String({ description: 'For a cancellation: the cancelled transaction' }),
  ),
  submitted_at: nullable(Timestamp),
  completed_at: nullable(Timestamp),
  created_at: Timestamp,
})

export const TransactionList = Type.Object({
  data: Type.Array(Transaction),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
})

export const ListQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$', description: 'default 20, at most 100' })),
  offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$', description: 'default 0, at most 10000' })),
  status: Type.Optional(literals(TRANSACTION_STATUSES)),
})

export const IdParams = Type.Object({ id: Type.String() })

export const CreateTransactionHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ description: 'UUID; generated when absent' })),
  'x-fiscalization-timeout': Type.Optional(
    Type.String({ description: 'Seconds the request may wait for inline fiscalization (0 to 60)' }),
  ),
})

export const CancelBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) })

export const CreateAccountBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  billing_email: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$', maxLength: 320 }),
})

export const Account = Type.Object({
  id: Type.String(),
  name: Type.String(),
  billing_email: nullable(Type.String()),
  created_at: Timestamp,
})

export const ApiKey = Type.Object({
  id: Type.String(),
  environment: literals(['test', 'live'] as const),
  name: Type.String(),
  key_hint: Type.String({ description: 'First characters and last four: never the key itself' }),
  created_at: Timestamp,
  revoked_at: nullable(Timestamp),
})

export const NewKeyAnswer = Type.Object({
  api_key: Type.String({ description: 'Shown once: only its SHA-256 is stored' }),
  key: ApiKey,
  revoked_key_id: Type.Optional(Type.String()),
})

export const CreateAccountAnswer = Type.Object({
  account: Account,
  api_key: Type.String({ description: 'The first test key, shown once' }),
  key: ApiKey,
})

export const CreateKeyBody = Type.Object({
  environment: literals(['test', 'live'] as const),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
})

export const Location = Type.Object({
  id: Type.String(),
  account_id: Type.String(),
  name: Type.String(),
  country: Type.String(),
  country_config: Type.Record(Type.String(), Type.Unknown()),
  active: Type.Boolean(),
  public_key: Type.String({ description: 'The P-256 key (SPKI, base64) that signs generic records' }),
  created_at: Timestamp,
  deactivated_at: nullable(Timestamp),
  cashboxes: Type.Optional(
    Type.Object(
      { test: Type.String(), live: Type.String() },
      {
        description:
          "For a country whose market signs (IT, FR, PT): the cash box of each environment that the location's transactions are signed on as POS System API v2 receipts; `fiscalbox <country> configure --cashbox <id>` and `fiscalbox export journal` take these ids",
      },
    ),
  ),
})

export const CreateLocationBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  country: Type.String({ description: 'ISO 3166-1 alpha-2' }),
  country_config: Type.Optional(
    Type.Object(
      {
        system: Type.Optional(literals(['verifactu', 'ticketbai', 'sii'] as const)),
        territory: Type.Optional(literals(['araba', 'bizkaia', 'gipuzkoa'] as const)),
        nif: Type.Optional(Type.String()),
        certificate_id: Type.Optional(Type.String()),
      },
      {
        additionalProperties: true,
        description:
          "Spain: system, territory (TicketBAI), nif, certificate_id. Italy, France, Portugal: the fields of PUT /it/v1/cashbox (device, url, timeoutMs, departments), /fr/v1/cashbox (siret, name) or /pt/v1/cashbox (nif, companyName, certificateNumber, privateKey, keyVersion, region, series), and `test` with the test environment's own values; checked by the country's market (400 naming country_config.<field>); a private key is sealed, not stored with the location",
      },
    ),
  ),
})

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
  offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
})

export const Job = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: 'fiscalize, webhook, or a market job such as es-pos-submit' }),
  subject_id: Type.String({ description: 'The transaction (fiscalize) or delivery (webhook)' }),
  status: literals(JOB_STATUSES),
  attempts: Type.Integer(),
  max_attempts: Type.Integer(),
  next_attempt_at: nullable(Timestamp),
  reconcile: Type.Boolean({
    description: 'The last attempt had an unknown outcome: the authority is asked first',
  }),
  last_error: nullable(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
  completed_at: nullable(Timestamp),
  batch_window: nullable(
    Type.String({
      description:
        'The batch window a submission is held for until next_attempt_at (lroe: Bizkaia); POST /v1/batches/{window}/run sends it now',
    }),
  ),
})

const Counts = Type.Object(Object.fromEntries(JOB_STATUSES.map((s) => [s, Type.Integer()])))

export const JobStats = Type.Object({
  ...Counts.properties,
  total: Type.Integer(),
  by_kind: Type.Record(Type.String(), Counts),
  oldest_due_at: nullable(Timestamp),
})

export const JobQuery = Type.Object({
  ...PageQuery.properties,
  status: Type.Optional(literals(JOB_STATUSES)),
  kind: Type.Optional(Type.String()),
})

export const JobList = Type.Object({
  data: Type.Array(Job),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
})

export const WebhookEndpoint = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(literals(WEBHOOK_EVENTS)),
  active: Type.Boolean(),
  created_at: Timestamp,
})

export const CreateWebhookBody = Type.Object({
  url: Type.String({ description: 'http(s) URL that receives POSTs' }),
  events: Type.Optional(Type.Array(literals(WEBHOOK_EVENTS), { minItems: 1 })),
})

export const CreateWebhookAnswer = Type.Object({
  endpoint: WebhookEndpoint,
  secret: Type.String({ description: 'whsec_…, shown once: verifies X-Fiscalbox-Signature' }),
})

export const Delivery = Type.Object({
  id: Type.String(),
  endpoint_id: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  status: literals(['pending', 'delivered', 'failed'] as const),
  attempts: Type.Integer(),
  last_status_code: nullable(Type.Integer()),
  last_error: nullable(Type.String()),
  created_at: Timestamp,
  delivered_at: nullable(Timestamp),
})

export const DeliveryList = Type.Object({
  data: Type.Array(Delivery),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
})
export const LocationList = Type.Object({
  data: Type.Array(Location),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
})

export const BatchParams = Type.Object({
  window: literals(batchWindows),
})

export const BatchRun = Type.Object({
  window: literals(batchWindows),
  environment: literals(['test', 'live'] as const),
  released: Type.Integer({
    description: 'Held submissions of the account (in the key environment) made due now',
  }),
})

const CertificateUseSchema = literals(['tls_client', 'signing'] as const)

export const ImportCertificateBody = Type.Object(
  {
    name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: CERTIFICATE_LIMITS.name,
        description: "Default: the subject's CN",
      }),
    ),
    pkcs12: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: CERTIFICATE_LIMITS.text,
        description: 'The .p12 / .pfx file, base64',
      }),
    ),
    pem: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: CERTIFICATE_LIMITS.text,
        description:
          'PEM text: the private key (PKCS#8 or PKCS#1, optionally encrypted) and the certificates',
      }),
    ),
    password: Type.Optional(
      Type.String({
        maxLength: CERTIFICATE_LIMITS.password,
        description: "The PKCS#12 file's password, or the PEM key's; never stored",
      }),
    ),
    uses: Type.Optional(
      Type.Array(CertificateUseSchema, {
        minItems: 1,
        uniqueItems: true,
        description: 'What the certificate must allow (default both): TLS client authentication, signing',
      }),
    ),
  },
  { additionalProperties: false },
)

export const CertificateView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  version: Type.Integer({ description: 'Counts replacements: 1 for the certificate first imported' }),
  subject: Type.String(),
  issuer: Type.String(),
  serial_number: Type.String({ description: 'Hexadecimal' }),
  not_before: Timestamp,
  not_after: Timestamp,
  fingerprint_sha256: Type.String(),
  key_usage: Type.Array(Type.String()),
  extended_key_usage: Type.Array(Type.String(), { description: 'OIDs' }),
  uses: Type.Array(CertificateUseSchema, { description: 'What fiscalbox may do with it' }),
  used_by: Type.Object({
    locations: Type.Array(Type.String(), { description: 'Locations whose country_config names it' }),
  }),
  created_at: Timestamp,
  replaced_at: nullable(Timestamp),
})
