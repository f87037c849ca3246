/**
 * The records of the transactions API v1 (docs/transactions-api-v1.md), free of HTTP and SQL. Amounts are
 * integer cents; timestamps are ISO 8601 text in UTC.
 */
export type Environment = 'test' | 'live'

export const TRANSACTION_STATUSES = [
  'pending',
  'processing',
  'success',
  'failed',
  'failed_permanent',
  'pending_lroe',
  'pending_submission',
  'cancelled',
] as const
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number]

/** Statuses from which POST /v1/transactions/{id}/cancel may create a cancellation (seed 002). */
export const CANCELLABLE: ReadonlySet<TransactionStatus> = new Set([
  'success',
  'pending_lroe',
  'pending_submission',
])

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

export type JobStatus = 'pending' | 'processing' | 'completed' | 'failed' | 'dead'
export const JOB_STATUSES: readonly JobStatus[] = ['pending', 'processing', 'completed', 'failed', 'dead']

export interface JobRecord {
  id: string
  accountId: string
  kind: string
  subjectId: string
  groupKey: string
  status: JobStatus
  attempts: number
  maxAttempts: number
  runAt: number
  lockedBy: string | null
  lockedUntil: number | null
  reconcile: boolean
  lastError: string | null
  createdAt: string
  updatedAt: string
  completedAt: string | null
  /** The batch window the job is held for (`lroe`), or null. */
  batchWindow: string | null
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
