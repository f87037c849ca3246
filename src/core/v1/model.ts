/**
 * The records of the transactions API v1 (docs/transactions-api-v1.md), free of HTTP and SQL. Amounts are
 * integer cents; timestamps are ISO 8601 text in UTC.
 */
export type Environment = 'test' | 'live'

/**
 * The windows a market's authority takes records in batches for, e.g. a daily batch (markets/<cc>/module.ts
 * `batchWindows` names them; the module adds each name here by declaration merging).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface BatchWindows {}
export type BatchWindow = keyof BatchWindows & string

/**
 * A sale whose fiscal document is final at the seal (numbered, chained, its QR code printable) awaits the
 * authority under `pending_submission`, or `pending_<window>` while held for a batch window; either may be
 * cancelled (docs/transactions-api-v1.md, statuses).
 */
export type AwaitingStatus = 'pending_submission' | `pending_${BatchWindow}`

export type TransactionStatus =
  | 'pending'
  | 'processing'
  | 'success'
  | 'failed'
  | 'failed_permanent'
  | AwaitingStatus
  | 'cancelled'

/** The status of a record held for `window`, or awaiting its submission. */
export const awaitingStatus = (window?: BatchWindow): AwaitingStatus =>
  window ? `pending_${window}` : 'pending_submission'

/** Every awaiting status, given the batch windows of the market modules. */
export const awaitingStatuses = (windows: readonly BatchWindow[]): AwaitingStatus[] => [
  ...windows.map(awaitingStatus),
  awaitingStatus(),
]

/** Every status, in the documented order, given the batch windows of the market modules. */
export const transactionStatuses = (windows: readonly BatchWindow[]): TransactionStatus[] => [
  'pending',
  'processing',
  'success',
  'failed',
  'failed_permanent',
  ...awaitingStatuses(windows),
  'cancelled',
]

/** Statuses from which POST /v1/transactions/{id}/cancel may create a cancellation (docs/transactions-api-v1.md). */
export const cancellableStatuses = (windows: readonly BatchWindow[]): TransactionStatus[] => [
  'success',
  ...awaitingStatuses(windows),
]

export type TransactionType = 'sale' | 'cancellation'

export interface AccountRecord {
  id: string
  name: string
  billingEmail: string | null
  createdAt: string
}

export interface ApiKeyRecord {
  id: string
  accountId: string
  environment: Environment
  keyHint: string
  name: string
  createdAt: string
  revokedAt: string | null
}

export interface LocationRecord {
  id: string
  accountId: string
  name: string
  country: string
  countryConfig: Record<string, unknown>
  active: boolean
  publicKey: string
  createdAt: string
  deactivatedAt: string | null
}

export interface TransactionRecord {
  id: string
  accountId: string
  locationId: string
  idempotencyKey: string
  requestHash: string
  type: TransactionType
  status: TransactionStatus
  amount: number
  currency: string
  country: string
  environment: Environment
  requestPayload: unknown
  responsePayload: unknown
  fiscalId: string | null
  errorMessage: string | null
  originalTransactionId: string | null
  submittedAt: string | null
  completedAt: string | null
  createdAt: string
  updatedAt: string
}

/** A transaction's place in its location's chain, fixed when it is stored, and what was sealed there. */
export interface FiscalRecord {
  transactionId: string
  locationId: string
  environment: Environment
  sequence: number
  fiscalizer: string
  previousHash: string
  hash: string
  record: string
  fiscalId: string | null
  createdAt: string
}

export const WEBHOOK_EVENTS = [
  'fiscalization.completed',
  'fiscalization.dead_letter',
  'transaction.cancelled',
] as const
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number]

export interface WebhookEndpointRecord {
  id: string
  accountId: string
  url: string
  events: WebhookEvent[]
  active: boolean
  createdAt: string
}

export interface WebhookDeliveryRecord {
  id: string
  endpointId: string
  accountId: string
  eventId: string
  eventType: string
  payload: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  lastStatusCode: number | null
  lastError: string | null
  createdAt: string
  deliveredAt: string | null
}
