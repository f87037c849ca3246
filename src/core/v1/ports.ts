import type { JobRecord, JobScope, JobStats, JobStatus, NewJob } from '../outbox.ts'
import type { UnitOfWork } from '../ports.ts'
import type {
  AccountRecord,
  ApiKeyRecord,
  Environment,
  FiscalRecord,
  LocationRecord,
  TransactionRecord,
  TransactionStatus,
  WebhookDeliveryRecord,
  WebhookEndpointRecord,
  WebhookEvent,
} from './model.ts'

/** What the v1 services need from storage; implemented in src/storage/repositories/v1-*.ts. */

export interface NewApiKey extends ApiKeyRecord {
  keyHash: string
}

export interface NewLocation extends LocationRecord {
  privateKeyEncrypted: string
}

export interface AccountStore {
  /** Stores the account and its first key; undefined when the billing e-mail is taken (UNIQUE). */
  createAccount(account: AccountRecord, key: NewApiKey): Promise<AccountRecord | undefined>
  findAccount(id: string): Promise<AccountRecord | undefined>
  /** The key and its account by the key's SHA-256, revoked keys included (the caller checks). */
  findKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>
  insertKey(key: NewApiKey): Promise<void>
  listKeys(accountId: string): Promise<ApiKeyRecord[]>
  /** Revokes a key of the account; false when the account has no such active key. */
  revokeKey(accountId: string, keyId: string, at: string): Promise<boolean>
  /** Revokes the old key and stores the new one in one commit; false when the old one is not active. */
  rotateKey(accountId: string, keyId: string, replacement: NewApiKey): Promise<boolean>
  insertLocation(location: NewLocation): Promise<void>
  listLocations(
    accountId: string,
    limit: number,
    offset: number,
  ): Promise<{ data: LocationRecord[]; total: number }>
  findLocation(accountId: string, id: string): Promise<LocationRecord | undefined>
  locationKey(locationId: string): Promise<{ publicKey: string; privateKeyEncrypted: string } | undefined>
  deactivateLocation(accountId: string, id: string, at: string): Promise<LocationRecord | undefined>
}

export interface WebhookStore {
  insertEndpoint(endpoint: WebhookEndpointRecord, secretEncrypted: string): Promise<void>
  listEndpoints(accountId: string): Promise<WebhookEndpointRecord[]>
  findEndpoint(
    accountId: string,
    id: string,
  ): Promise<(WebhookEndpointRecord & { secretEncrypted: string }) | undefined>
  deactivateEndpoint(accountId: string, id: string): Promise<boolean>
  listDeliveries(
    accountId: string,
    endpointId: string,
    limit: number,
    offset: number,
  ): Promise<{ data: WebhookDeliveryRecord[]; total: number }>
  findDelivery(id: string): Promise<WebhookDeliveryRecord | undefined>
}

export interface ChainState {
  lastSequence: number
  lastHash: string
  state: string | null
}

export type TransactionPatch = Partial<
  Pick<
    TransactionRecord,
    'status' | 'responsePayload' | 'fiscalId' | 'errorMessage' | 'submittedAt' | 'completedAt'
  >
> & {
  updatedAt: string
  /**
   * Compare-and-set: the row is changed only while its status is one of these (checked in the UPDATE's
   * WHERE clause, so a concurrent cancellation that committed first wins). Omitted: unconditional.
   */
  onlyFrom?: readonly TransactionStatus[]
}

export interface WebhookEnqueue {
  accountId: string
  event: WebhookEvent
  eventId: string
  /** The exact body that is delivered and signed, kept so that every retry sends the same bytes. */
  body: string
  createdAt: string
  maxAttempts: number
  runAt: number
}

/** The writes of one storage transaction (a unit of work) of the v1 API and its outbox. */
export interface V1Unit {
  readonly unit: UnitOfWork
  /** false when (account, idempotency key) exists already: the UNIQUE constraint decides. */
  insertTransaction(transaction: TransactionRecord): Promise<boolean>
  findTransaction(accountId: string, id: string, lock?: boolean): Promise<TransactionRecord | undefined>
  findByIdempotencyKey(accountId: string, key: string): Promise<TransactionRecord | undefined>
  findCancellationOf(originalId: string): Promise<TransactionRecord | undefined>
  /** Locks the location's chain row for this environment (FOR UPDATE on PostgreSQL). */
  lockChain(locationId: string, environment: Environment): Promise<ChainState>
  saveChain(locationId: string, environment: Environment, chain: ChainState): Promise<void>
  insertRecord(record: FiscalRecord): Promise<void>
  findRecord(transactionId: string): Promise<FiscalRecord | undefined>
  /** false when the row was not changed (absent, or its status not in `patch.onlyFrom`). */
  updateTransaction(id: string, patch: TransactionPatch): Promise<boolean>
  insertJob(job: NewJob): Promise<void>
  /** One delivery and its job per active endpoint of the account subscribed to the event. */
  enqueueWebhooks(event: WebhookEnqueue): Promise<number>
  updateDelivery(
    id: string,
    patch: Partial<
      Pick<WebhookDeliveryRecord, 'status' | 'attempts' | 'lastStatusCode' | 'lastError' | 'deliveredAt'>
    >,
  ): Promise<void>
}

export interface TransactionStore {
  /** A durable storage transaction: settles after the commit. */
  unit<T>(work: (unit: V1Unit) => Promise<T>): Promise<T>
  get(accountId: string, id: string): Promise<TransactionRecord | undefined>
  byIdempotencyKey(accountId: string, key: string): Promise<TransactionRecord | undefined>
  list(
    accountId: string,
    filter: { status?: TransactionStatus; limit: number; offset: number },
  ): Promise<{ data: TransactionRecord[]; total: number }>
  /** Transactions and their records by id, for the outbox (not scoped: jobs carry the account). */
  withRecords(
    ids: string[],
  ): Promise<Array<{ transaction: TransactionRecord; record: FiscalRecord | undefined }>>
}

export interface JobStore {
  /**
   * Claims due jobs (and jobs whose lease expired, marked for reconciliation) in one storage transaction,
   * oldest-created first: per claim up to `limit` of one kind (`only`) or of every kind but some (`except`).
   */
  claimDue(
    workerId: string,
    now: number,
    leaseMs: number,
    claims: ReadonlyArray<{ limit: number; only?: string; except?: readonly string[] }>,
  ): Promise<JobRecord[]>
  /** Claims one pending job by id (the inline attempt right after the create). */
  claimById(id: string, workerId: string, now: number, leaseMs: number): Promise<JobRecord | undefined>
  /**
   * Records the end of an attempt and runs its effects in the same commit, only if this worker still holds
   * the job (its lease did not expire and nobody else claimed it). Returns false otherwise.
   */
  finish(
    job: JobRecord,
    patch: Pick<JobRecord, 'status' | 'runAt' | 'reconcile' | 'lastError'> & {
      completedAt: string | null
      /** Set when the attempt is not to be counted (a job that had to wait). */
      attempts?: number
    },
    effects: (unit: V1Unit) => Promise<void>,
  ): Promise<boolean>
  find(scope: JobScope, id: string): Promise<JobRecord | undefined>
  list(
    scope: JobScope,
    filter: { status?: JobStatus; kind?: string; limit: number; offset: number },
  ): Promise<{ data: JobRecord[]; total: number }>
  stats(scope: JobScope): Promise<JobStats>
  /** A dead job back to pending with its attempts reset, with the effects in the same commit. */
  revive(
    scope: JobScope,
    id: string,
    now: number,
    effects: (unit: V1Unit, job: JobRecord) => Promise<void>,
  ): Promise<JobRecord | undefined>
  /**
   * Makes the submissions of the scope held for a batch window due now (still pending; with `environment`,
   * only those of the account's v1 transactions in that environment): the number of jobs released.
   */
  /**
   * With an environment: the jobs of that environment's transactions, and those of `groups` (the queues of
   * the account's location cash boxes of that environment, whose market enqueued them).
   */
  releaseWindow(
    scope: JobScope & { environment?: Environment; groups?: readonly string[] },
    window: string,
    now: number,
  ): Promise<number>
  /** For tests and the bench: jobs not yet completed or dead. */
  openCount(): Promise<number>
}
