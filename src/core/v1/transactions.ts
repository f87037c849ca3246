import { randomUUID } from 'node:crypto'
import type { CertificateMaterial } from '../certificates/certificates.ts'
import { canonicalJson, sha256Hex } from '../canonical-json.ts'
import { ErrorCode, FiscalError } from '../errors.ts'
import type { QueueSigner } from '../market.ts'
import { type Caller, isUuid } from './accounts.ts'
import type { Fiscalizer, FiscalInput, FiscalizerFor } from './fiscalizer.ts'
import {
  type BatchWindow,
  cancellableStatuses,
  type Environment,
  type LocationRecord,
  type TransactionRecord,
  type TransactionStatus,
  type WebhookEvent,
} from './model.ts'
import type { AccountStore, TransactionStore, V1Unit } from './ports.ts'
import { parseCreateTransaction, seedError } from './transaction-input.ts'
import { transactionView } from './views.ts'

export interface TransactionSettings {
  /** Attempts of a submission job before it goes to the dead letter. */
  maxAttempts: number
  webhookMaxAttempts: number
  /** How long a create waits for the inline attempt when X-Fiscalization-Timeout is absent. */
  defaultInlineTimeoutMs: number
  /** Epoch milliseconds, the outbox's clock: seals and due times use the same time as the workers. */
  clock: () => number
  /** The batch windows the market modules hold records for: each is a status a sale may be cancelled from. */
  batchWindows: readonly BatchWindow[]
}

export interface SealingKeys {
  signer: QueueSigner
  certificate?: CertificateMaterial
}

/** What the service needs from the outbox's workers. */
export interface InlineRunner {
  runInline(jobId: string, timeoutMs: number): Promise<void>
  notify(): void
}

export const FISCALIZE_JOB = 'fiscalize'

const notFound = () => new FiscalError(ErrorCode.NotFound, 'transaction not found')

/** Builds a webhook event body once: every delivery and retry sends (and signs) these exact bytes. */
export function webhookEvent(event: WebhookEvent, data: Record<string, unknown>, now: Date) {
  const eventId = `evt_${randomUUID()}`
  return { eventId, body: JSON.stringify({ id: eventId, type: event, created_at: now.toISOString(), data }) }
}

/** Queues the event for every subscribed endpoint of the account, in the caller's storage transaction. */
export async function emitWebhook(
  unit: V1Unit,
  accountId: string,
  event: WebhookEvent,
  data: Record<string, unknown>,
  maxAttempts: number,
): Promise<number> {
  const now = new Date()
  const { eventId, body } = webhookEvent(event, data, now)
  return unit.enqueueWebhooks({
    accountId,
    event,
    eventId,
    body,
    createdAt: now.toISOString(),
    maxAttempts,
    runAt: now.getTime(),
  })
}

/**
 * The transactions of the Transactions API v1 (docs/transactions-api-v1.md): stored first (201 once committed), sealed into the location's chain in the
 * same commit, then fiscalized inline within the caller's timeout or by the outbox afterwards.
 */
export class Transactions {
  constructor(
    private readonly store: TransactionStore,
    private readonly locations: Pick<AccountStore, 'findLocation'>,
    /** The location's key and the stored certificate its country_config names, read before the seal's commit. */
    private readonly sealingOf: (location: LocationRecord) => Promise<SealingKeys>,
    private readonly fiscalizerFor: FiscalizerFor,
    private readonly runner: InlineRunner,
    private readonly settings: TransactionSettings,
  ) {
    this.cancellable = cancellableStatuses(settings.batchWindows)
  }

  private readonly cancellable: readonly TransactionStatus[]

  async create(
    caller: Caller,
    body: unknown,
    options: { idempotencyKey?: string; timeoutMs?: number },
  ): Promise<{ transaction: TransactionRecord; replayed: boolean }> {
    const input = parseCreateTransaction(body)
    const accountId = caller.account.id
    const idempotencyKey = options.idempotencyKey ?? randomUUID()
    const requestHash = sha256Hex(canonicalJson(body))
    const replay = (existing: TransactionRecord) => {
      if (existing.requestHash !== requestHash) {
        throw new FiscalError(
          ErrorCode.Conflict,
          'Idempotency-Key was already used for a different request: send a new key for a new transaction',
          { field: 'Idempotency-Key', reason: 'already used with a different body' },
        )
      }
      return { transaction: existing, replayed: true }
    }
    if (options.idempotencyKey) {
      const existing = await this.findByKey(accountId, options.idempotencyKey)
      if (existing) return replay(existing)
    }
    const location = await this.locations.findLocation(accountId, input.locationId)
    if (!location) throw seedError('location not found', 'location_id')
    if (!location.active) throw seedError('location is not active', 'location_id')
    const fiscalizer = this.fiscalizerFor(location)
    const keys = await this.sealingOf(location)
    const now = new Date(this.settings.clock())
    const transaction: TransactionRecord = {
      id: randomUUID(),
      accountId,
      locationId: location.id,
      idempotencyKey,
      requestHash,
      type: 'sale',
      status: 'pending',
      amount: input.amountCents,
      currency: input.currency,
      country: location.country,
      environment: caller.environment,
      requestPayload: body,
      responsePayload: null,
      fiscalId: null,
      errorMessage: null,
      originalTransactionId: null,
      submittedAt: null,
      completedAt: null,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    }
    const inlineMs = options.timeoutMs ?? this.settings.defaultInlineTimeoutMs
    const stored = await this.store.unit(async (unit) => {
      // The UNIQUE (account, idempotency key) decides a race between two requests with the same key.
      if (!(await unit.insertTransaction(transaction))) {
        return { existing: await unit.findByIdempotencyKey(accountId, idempotencyKey) }
      }
      const jobId = await this.seal(unit, fiscalizer, keys, location, transaction, inlineMs, {
        transactionId: transaction.id,
        type: 'sale',
        environment: caller.environment,
        location,
        timestamp: input.timestamp,
        amountCents: input.amountCents,
        currency: input.currency,
        request: body,
      })
      return { jobId }
    })
    if ('existing' in stored) {
      if (!stored.existing) throw new FiscalError(ErrorCode.Internal, 'idempotency conflict without a row')
      return replay(stored.existing)
    }
    if (stored.jobId) await this.runner.runInline(stored.jobId, inlineMs)
    return { transaction: await this.reload(accountId, transaction.id), replayed: false }
  }

  async get(caller: Caller, id: string): Promise<TransactionRecord> {
    const transaction = isUuid(id) ? await this.store.get(caller.account.id, id.toLowerCase()) : undefined
    if (!transaction) throw notFound()
    return transaction
  }

  list(caller: Caller, filter: { status?: TransactionStatus; limit: number; offset: number }) {
    return this.store.list(caller.account.id, filter)
  }

  /**
   * Creates (once) the cancellation of a fiscalized transaction and marks the original cancelled, in one
   * commit; a second call returns the same cancellation.
   */
  async cancel(caller: Caller, id: string, reason: string | undefined, options: { timeoutMs?: number } = {}) {
    const original = await this.get(caller, id)
    const accountId = caller.account.id
    const cannot = () => new FiscalError(ErrorCode.Conflict, 'transaction cannot be cancelled')
    if (original.type === 'cancellation') throw cannot()
    const location = await this.locations.findLocation(accountId, original.locationId)
    if (!location) throw notFound()
    const fiscalizer = this.fiscalizerFor(location)
    const keys = await this.sealingOf(location)
    const inlineMs = options.timeoutMs ?? this.settings.defaultInlineTimeoutMs
    const outcome = await this.store.unit(async (unit) => {
      const locked = await unit.findTransaction(accountId, original.id, true)
      if (!locked) throw notFound()
      const existing = await unit.findCancellationOf(locked.id)
      if (existing) return { existing }
      if (!this.cancellable.includes(locked.status)) throw cannot()
      const now = new Date(this.settings.clock())
      const cancellation: TransactionRecord = {
        ...locked,
        id: randomUUID(),
        idempotencyKey: `cancel:${locked.id}`,
        requestHash: sha256Hex(canonicalJson({ cancel: locked.id })),
        type: 'cancellation',
        status: 'pending',
        requestPayload: reason === undefined ? {} : { reason },
        responsePayload: null,
        fiscalId: null,
        errorMessage: null,
        originalTransactionId: locked.id,
        submittedAt: null,
        completedAt: null,
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
      }
      if (!(await unit.insertTransaction(cancellation))) {
        return { existing: await unit.findCancellationOf(locked.id) }
      }
      await unit.updateTransaction(locked.id, {
        status: 'cancelled',
        updatedAt: now.toISOString(),
        onlyFrom: this.cancellable,
      })
      const jobId = await this.seal(unit, fiscalizer, keys, location, cancellation, inlineMs, {
        transactionId: cancellation.id,
        type: 'cancellation',
        environment: locked.environment,
        location,
        timestamp: now.toISOString(),
        amountCents: locked.amount,
        currency: locked.currency,
        request: cancellation.requestPayload,
        original: {
          transactionId: locked.id,
          fiscalId: locked.fiscalId,
          record: await unit.findRecord(locked.id),
        },
      })
      const cancelled = await unit.findTransaction(accountId, locked.id)
      const created = await unit.findTransaction(accountId, cancellation.id)
      await emitWebhook(
        unit,
        accountId,
        'transaction.cancelled',
        {
          transaction: cancelled && transactionView(cancelled),
          cancellation: created && transactionView(created),
        },
        this.settings.webhookMaxAttempts,
      )
      return { created: cancellation, jobId }
    })
    if ('existing' in outcome) {
      if (!outcome.existing) throw new FiscalError(ErrorCode.Internal, 'cancellation conflict without a row')
      return { transaction: outcome.existing, replayed: true }
    }
    if (outcome.jobId) await this.runner.runInline(outcome.jobId, inlineMs)
    return { transaction: await this.reload(accountId, outcome.created.id), replayed: false }
  }

  /**
   * Fixes the record's place in the location's chain and seals it, in the caller's storage transaction.
   * Without an authority the transaction is fiscalized here; otherwise a submission job is committed with
   * it (the outbox's own, or the delivery job of the market that sealed it) and its id returned for the
   * inline attempt (none when the job waits for a batch window).
   */
  private async seal(
    unit: V1Unit,
    fiscalizer: Fiscalizer,
    keys: SealingKeys,
    location: LocationRecord,
    transaction: TransactionRecord,
    inlineMs: number,
    input: FiscalInput,
  ): Promise<string | undefined> {
    const environment: Environment = input.environment
    const chain = await unit.lockChain(location.id, environment)
    const sequence = chain.lastSequence + 1
    const now = new Date(this.settings.clock())
    const sealed = await fiscalizer.seal(
      {
        sequence,
        previousHash: chain.lastHash,
        state: chain.state,
        signer: keys.signer,
        ...(keys.certificate ? { certificate: keys.certificate } : {}),
        unit: unit.unit,
        now,
        inlineMs,
      },
      input,
    )
    await unit.insertRecord({
      transactionId: transaction.id,
      locationId: location.id,
      environment,
      sequence,
      fiscalizer: fiscalizer.name,
      previousHash: chain.lastHash,
      hash: sealed.hash,
      record: sealed.record,
      fiscalId: sealed.fiscalId,
      createdAt: now.toISOString(),
    })
    await unit.saveChain(location.id, environment, {
      lastSequence: sequence,
      lastHash: sealed.hash,
      state: sealed.state ?? null,
    })
    if (!fiscalizer.authority && !sealed.delivery) {
      await unit.updateTransaction(transaction.id, {
        status: 'success',
        fiscalId: sealed.fiscalId,
        responsePayload: sealed.payload,
        completedAt: now.toISOString(),
        updatedAt: now.toISOString(),
      })
      const done: TransactionRecord = {
        ...transaction,
        status: 'success',
        fiscalId: sealed.fiscalId,
        responsePayload: sealed.payload,
        completedAt: now.toISOString(),
        updatedAt: now.toISOString(),
      }
      await emitWebhook(
        unit,
        transaction.accountId,
        'fiscalization.completed',
        { transaction: transactionView(done) },
        this.settings.webhookMaxAttempts,
      )
      return undefined
    }
    await unit.updateTransaction(transaction.id, {
      // A status from the seal (awaiting a batch or its submission) means the record is final already: so is
      // its fiscal id.
      ...(sealed.initialStatus ? { status: sealed.initialStatus, fiscalId: sealed.fiscalId } : {}),
      responsePayload: { record: sealed.payload },
      updatedAt: now.toISOString(),
    })
    // A market that delivers its records itself enqueued the record's job with it.
    if (sealed.delivery) return sealed.delivery.held ? undefined : sealed.delivery.jobId
    const jobId = randomUUID()
    await unit.insertJob({
      id: jobId,
      accountId: transaction.accountId,
      kind: FISCALIZE_JOB,
      subjectId: transaction.id,
      groupKey: `${location.id}:${environment}`,
      maxAttempts: this.settings.maxAttempts,
      // Reserved for the inline attempt of this request (claimed by id): other workers take it only if this
      // node dies before it, once the timeout has passed.
      runAt: now.getTime() + inlineMs,
      createdAt: now.toISOString(),
    })
    return jobId
  }

  private findByKey(accountId: string, key: string) {
    return this.store.byIdempotencyKey(accountId, key)
  }

  private async reload(accountId: string, id: string): Promise<TransactionRecord> {
    const transaction = await this.store.get(accountId, id)
    if (!transaction) throw new FiscalError(ErrorCode.Internal, `transaction ${id} vanished after its commit`)
    return transaction
  }
}
