import type { JobRecord, JobStats } from '../outbox.ts'
import type {
  LocationRecord,
  TransactionRecord,
  WebhookDeliveryRecord,
  WebhookEndpointRecord,
} from './model.ts'

/** The wire objects of the v1 API (snake_case, amounts in cents), shared by the HTTP answers and webhooks. */
export const transactionView = (t: TransactionRecord) => ({
  id: t.id,
  account_id: t.accountId,
  location_id: t.locationId,
  idempotency_key: t.idempotencyKey,
  type: t.type,
  status: t.status,
  amount: t.amount,
  currency: t.currency,
  country: t.country,
  request_payload: t.requestPayload,
  response_payload: t.responsePayload,
  fiscal_id: t.fiscalId,
  environment: t.environment,
  error_message: t.errorMessage,
  original_transaction_id: t.originalTransactionId,
  submitted_at: t.submittedAt,
  completed_at: t.completedAt,
  created_at: t.createdAt,
})

export const locationView = (l: LocationRecord, details: Record<string, unknown> = {}) => ({
  id: l.id,
  account_id: l.accountId,
  name: l.name,
  country: l.country,
  country_config: l.countryConfig,
  active: l.active,
  public_key: l.publicKey,
  created_at: l.createdAt,
  deactivated_at: l.deactivatedAt,
  ...details,
})

export const jobView = (j: JobRecord) => ({
  id: j.id,
  kind: j.kind,
  subject_id: j.subjectId,
  status: j.status,
  attempts: j.attempts,
  max_attempts: j.maxAttempts,
  next_attempt_at: j.status === 'pending' || j.status === 'failed' ? new Date(j.runAt).toISOString() : null,
  reconcile: j.reconcile,
  last_error: j.lastError,
  created_at: j.createdAt,
  updated_at: j.updatedAt,
  completed_at: j.completedAt,
  batch_window: j.batchWindow,
})

export const endpointView = (e: WebhookEndpointRecord) => ({
  id: e.id,
  url: e.url,
  events: e.events,
  active: e.active,
  created_at: e.createdAt,
})

export const deliveryView = (d: WebhookDeliveryRecord) => ({
  id: d.id,
  endpoint_id: d.endpointId,
  event_id: d.eventId,
  event_type: d.eventType,
  status: d.status,
  attempts: d.attempts,
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  created_at: d.createdAt,
  delivered_at: d.deliveredAt,
})

/** The retry queue's counts as the API shows them (v1 and the ES cash boxes' /es/v1/jobs). */
export const jobStatsView = (stats: JobStats) => ({
  ...stats.byStatus,
  total: Object.values(stats.byStatus).reduce((a, b) => a + b, 0),
  by_kind: stats.byKind,
  oldest_due_at: stats.oldestDueAt === null ? null : new Date(stats.oldestDueAt).toISOString(),
})
