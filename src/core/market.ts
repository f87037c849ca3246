import type { CaseCode } from './case-codes.ts'
import type { UnitOfWork } from './ports.ts'
import type { TransactionSealer } from './v1/market-signed.ts'
import type { Receipt } from './receipt.ts'

export interface SignatureItem {
  ftSignatureFormat: CaseCode
  ftSignatureType: CaseCode
  Caption: string
  Data: string
}

/**
 * What a market may sign with in-process: the queue's own key (sealed by the master key or in a PKCS#11
 * token, core/signing-keys.ts), opened once and cached. Signatures are ECDSA P-256 SHA-256, r||s.
 */
export interface QueueSigner {
  readonly algorithm: string
  readonly publicKey: string
  sign(data: string): Buffer
}

/**
 * Everything the core has fixed before the market signs: the receipt's place in the queue and chain.
 * The market runs inside the queue's serialized unit of work, so these numbers are final.
 */
export interface SigningContext {
  queueId: string
  cashboxId: string
  countryCode: number
  queueRow: number
  receiptNumber: number
  previousHash: string
  moment: Date
  requestHash: string
  signer: QueueSigner
  /** The market's own state for this queue as it last saved it (MarketOutcome.marketState), or null. */
  marketState: string | null
  /** The storage transaction of this receipt, for markets with tables of their own. */
  unit: UnitOfWork
}

export interface MarketOutcome {
  signatures: SignatureItem[]
  /** Extra low-32-bit state flags, e.g. 0x2 when the signing unit failed but the receipt is still answered. */
  stateFlags?: bigint
  /** Appended to `ft{n:X}#`, e.g. an Italian `Z0001-0042`. */
  identificationSuffix?: string
  /** The market's new state for this queue, committed with the receipt; omitted = unchanged. */
  marketState?: string
  /** ftStateData when the core sets none (closings set theirs), e.g. the status an Italian zero receipt read. */
  stateData?: unknown
  /** ftCashBoxIdentification instead of the queue id, e.g. the serial of the Italian RT device that printed. */
  cashBoxIdentification?: string
}

/** What seal() hands to the market's external unit: opaque to the core, read back by the market. */
export interface ExternalStep {
  external: {
    request: string
    /**
     * This call's bound instead of the unit's `timeoutMs` (and the reservation's lease with it), e.g. an
     * Italian cash box's own device timeout; recovery keeps the unit's.
     */
    timeoutMs?: number
  }
}

/** seal() either finishes the receipt in the queue's transaction or asks for a call to the external unit. */
export type Sealed = MarketOutcome | ExternalStep

/** One call of an external unit: the key is unique per reserved receipt, so a unit can deduplicate by it. */
export interface UnitCall {
  key: string
  cashboxId: string
  queueId: string
  receiptNumber: number
  request: string
}

/** What came back from the unit: its answer, or why there is none (timeout, unreachable, refused). */
export type UnitResult = { answer: string } | { failure: string }

/**
 * A signing unit outside the process (an RT printer, a certified cloud TSE, an HSM on the network). The core
 * calls it with no database transaction open, between a reservation committed first and the result
 * committed after, so a slow unit costs its own queue time and no one else's.
 */
export interface ExternalUnit {
  /** After this long a call is aborted and the receipt is completed as failed (ftState 0x2). */
  readonly timeoutMs: number
  perform(call: UnitCall, signal: AbortSignal): Promise<string>
  /**
   * After a crash between reservation and commit: what the unit did for this call. Its answer, or
   * undefined when it issued nothing (then the reservation is released and nothing was ever issued).
   */
  recover(call: UnitCall, signal: AbortSignal): Promise<string | undefined>
  /** In the second transaction: turns the unit's result into the receipt's signatures and state. */
  complete(context: SigningContext, receipt: Receipt, result: UnitResult): Promise<MarketOutcome>
}

/**
 * One plug per country. The core owns numbering, chaining, idempotency and storage; a market adds the
 * country's rules (validate, pure, before any write) and its signature (seal, inside the queue's
 * transaction; with an external unit, completed after the unit's call). docs/markets.md has the contract.
 */
export interface Market {
  readonly name: string
  validate(receipt: Receipt): void
  seal(context: SigningContext, receipt: Receipt): Promise<Sealed>
  readonly external?: ExternalUnit
  /** The settings a cash box of the market needs before its first receipt (e.g. its RT device). */
  readonly cashboxSettings?: CashboxSettings
  /**
   * The signing units behind a cash box's queue, as a POS reads them at start-up (POST /v2/configuration).
   * Absent: the queue signs with its own in-process key only.
   */
  signingUnits?(cashbox: { id: string; queueId: string; accountId: string }): Promise<SigningUnitView[]>
  /**
   * A market whose documents are final at the seal and delivered to an authority later by its own outbox
   * jobs (Spain) seals the transactions of the API v1 in the transaction's own commit (core/v1/market-signed.ts).
   */
  readonly transactions?: TransactionSealer
}

/** A signing unit as the configuration shows it: what and which it is, and whether it serves. No secret. */
export interface SigningUnitView {
  /** What kind of unit, in the market's words, e.g. "TSS" */
  Type: string
  /** Which one: its serial number or address; null while it does not exist yet */
  Id: string | null
  /** e.g. "in service", "out of service", "not configured" */
  State: string
  /** What else the market shows of it (as its own endpoints name it) */
  Details?: Record<string, unknown>
}

/**
 * A market's per-cash-box settings, as the transactions API's locations give them (country_config): checked
 * before the location is stored, applied to each of its cash boxes. /v2 cash boxes set them over the market's
 * own routes and CLI (e.g. PUT /it/v1/cashbox), which take the same fields.
 */
export interface CashboxSettings {
  /** Throws a 400 naming the first bad field (by its name in the settings). */
  check(settings: Record<string, unknown>): void
  /**
   * Gives the cash box these settings; the same settings again change nothing. `owner`: the location of the
   * transactions API the cash box signs for, whose defaults a market may take (e.g. a series per location).
   */
  apply(
    cashbox: { id: string; queueId: string },
    settings: Record<string, unknown>,
    owner?: CashboxOwner,
  ): Promise<void>
  /**
   * What the location keeps of its settings (its country_config as stored and shown): without secrets such
   * as a private key, which `apply` seals in the market's own store. Absent: the settings as given.
   */
  stored?(settings: Record<string, unknown>): Record<string, unknown>
}

/** The location of the transactions API v1 a cash box signs for, in one of its environments. */
export interface CashboxOwner {
  locationId: string
  /** the location's name */
  name: string
  environment: 'test' | 'live'
}

export const needsExternalStep = (sealed: Sealed): sealed is ExternalStep => 'external' in sealed
