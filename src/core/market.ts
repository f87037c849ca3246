import type { CaseCode } from './case-codes.ts'
import type { UnitOfWork } from './ports.ts'
import type { Receipt } from './receipt.ts'

export interface SignatureItem {
  ftSignatureFormat: CaseCode
  ftSignatureType: CaseCode
  Caption: string
  Data: string
}

/** What a market may sign with in-process: the queue's own key, decrypted once and cached as a KeyObject. */
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
}

/**
 * One plug per country. The core owns numbering, chaining, idempotency and storage; a market adds the
 * country's rules (validate) and its signature (sign). How the four kinds of signing unit fit is in
 * docs/markets.md.
 */
export interface Market {
  readonly name: string
  validate(receipt: Receipt): void
  sign(context: SigningContext, receipt: Receipt): Promise<MarketOutcome>
}
