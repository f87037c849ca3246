import type { CertificateMaterial } from '../certificates/certificates.ts'
import type { AuthorityClient as DeliveryClient } from '../delivery.ts'
import type { QueueSigner } from '../market.ts'
import type { UnitOfWork } from '../ports.ts'
import type { AwaitingStatus, Environment, FiscalRecord, LocationRecord, TransactionType } from './model.ts'

/**
 * How a transaction of the v1 API becomes a fiscal record. Two steps, because a record's place in the
 * location's chain must be fixed when the transaction is stored, while the authority may answer much later:
 *
 * 1. `seal` runs inside the storage transaction that stores the transaction row (the location's chain row
 *    is locked). It builds and signs the record, chained to the previous one. What it returns is committed
 *    together with the transaction, so the chain has no gaps and no forks.
 * 2. Delivery (authority fiscalizers only) runs in the jobs outbox, outside any storage transaction, with
 *    retries: the `authority` client of the location's chain is driven by core/delivery.ts, which looks a
 *    record up before it sends it again after an unknown outcome, so that it is never registered twice.
 *
 * One fiscalizer per country: `generic` for countries without a market of their own, and the market's for a
 * country whose market signs its locations (market-signed.ts). A market that seals transactions itself
 * delivers them with its own outbox jobs (`SealedRecord.delivery`) rather than through `authority`.
 */
export interface Fiscalizer {
  readonly name: string
  /** Checks a location's country_config when the location is created (throw `invalid(field, reason)`). */
  validateConfig?(config: Record<string, unknown>): void
  seal(context: SealContext, input: FiscalInput): Promise<SealedRecord>
  /** Present when records go to an authority: then the transaction waits for its answer. */
  readonly authority?: AuthorityClientFor
  /** What a location keeps of its country_config (without secrets that the fiscalizer seals itself). */
  storedConfig?(config: Record<string, unknown>): Record<string, unknown>
  /** Sets up what a new location's records are made with (after the location's commit; config as given). */
  prepareLocation?(location: LocationRecord): Promise<void>
  /** What the location's view shows of the fiscalizer's set-up, e.g. its cash boxes. */
  locationDetails?(location: LocationRecord): Record<string, unknown>
}

export interface FiscalInput {
  transactionId: string
  type: TransactionType
  environment: Environment
  location: LocationRecord
  /** The POS's timestamp of the sale (request `timestamp`), or the cancellation's creation time. */
  timestamp: string
  amountCents: number
  currency: string
  /** The request body as received (a sale) or {reason} (a cancellation). */
  request: unknown
  /** For a cancellation: the transaction it cancels and that transaction's sealed record. */
  original?: { transactionId: string; fiscalId: string | null; record: FiscalRecord | undefined }
}

export interface SealContext {
  /** This record's number in the location's chain for this environment (1, 2, ...), final. */
  sequence: number
  /** The previous record's hash (64 zeros for the first). */
  previousHash: string
  /** What this fiscalizer returned as `state` for the previous record of the chain, or null. */
  state: string | null
  /** The location's own P-256 key (sealed at rest by the master key). */
  signer: QueueSigner
  /**
   * The stored certificate the location's country_config names (`certificate_id`), opened: read before the
   * seal's commit (on SQLite a read of the store inside it would wait for that very commit).
   */
  certificate?: CertificateMaterial
  /** The storage transaction, for a fiscalizer's own tables (`transactionOf(unit)` in the ledger). */
  unit: UnitOfWork
  now: Date
  /** How long this request waits for the record's inline attempt: its delivery is kept for it until then. */
  inlineMs: number
}

export interface SealedRecord {
  /** The record's chain hash; the next record's `previousHash`. */
  hash: string
  /** Opaque per-chain state for the next seal (e.g. the previous record's signature value); omitted = null. */
  state?: string | null
  /** The record as it is (or will be) sent: XML, JSON or text. */
  record: string
  /** The fiscal identifier known at sealing time (when the record format defines one), or null. */
  fiscalId: string | null
  /** Goes into the transaction's response_payload. */
  payload: Record<string, unknown>
  /**
   * The transaction's status until the authority answers, instead of `pending`, for a sale whose fiscal
   * document is final at the seal (numbered, chained, its QR code printable) and so may be cancelled:
   * `pending_<window>` for one held for its batch window, `pending_submission` for one awaiting its
   * submission. The delivery keeps it through its attempts; the answer replaces it (`success`,
   * `failed_permanent`).
   */
  initialStatus?: AwaitingStatus
  /**
   * The record's delivery job, enqueued with it by the market that delivers it (market-signed.ts, sealed in
   * the commit), instead of the outbox's own submission job: attempted inline unless it is held for a batch
   * window.
   */
  delivery?: { jobId: string; held: boolean }
}

/** A sealed record as the outbox hands it to the authority. */
export interface SubmittedRecord extends FiscalRecord {
  type: TransactionType
  location: LocationRecord
}

/** What the outbox keeps of the authority's answer for a transaction's record. */
export interface AuthorityAnswer {
  /** `registered`, or an awaiting status when the authority took the record for later processing. */
  status: 'registered' | AwaitingStatus
  /** The fiscal identifier the authority gave, when it gives one. */
  fiscalId?: string | null
  /** Goes into the transaction's response_payload.authority. */
  response: Record<string, unknown>
}

/** The delivery client (core/delivery.ts) an authority's client (and its simulator) implements for v1. */
export type AuthorityClient = DeliveryClient<SubmittedRecord, AuthorityAnswer>

/** The client of one location's chain: test keys talk to the sandbox (or the simulator), live keys to production. */
export type AuthorityClientFor = (location: LocationRecord, environment: Environment) => AuthorityClient

/**
 * Picks the fiscalizer of a location, or throws a FiscalError when its country/system is not supported. A
 * new location's country_config (`creating`) is checked by the fiscalizer too; a stored one was checked then.
 */
export type FiscalizerFor = (
  location: Pick<LocationRecord, 'country' | 'countryConfig'>,
  creating?: 'creating',
) => Fiscalizer
