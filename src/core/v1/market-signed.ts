import { createHash } from 'node:crypto'
import { canonicalJson, sha256Hex } from '../canonical-json.ts'
import type { CertificateMaterial } from '../certificates/certificates.ts'
import { countryCode } from '../case-codes.ts'
import { ErrorCode, FiscalError } from '../errors.ts'
import type { RecordAnswer } from '../delivery.ts'
import type {
  AuthorityAnswer,
  AuthorityClient,
  Fiscalizer,
  FiscalInput,
  SealContext,
  SealedRecord,
} from './fiscalizer.ts'
import type { SigningContext } from '../market.ts'
import type { JobRecord } from '../outbox.ts'
import { parseReceipt, type Receipt, type ReceiptRequestBody } from '../receipt.ts'
import type { DeliveryOutcomes } from './delivery-outcomes.ts'
import { locationCashboxId, locationQueueId } from './location-cashboxes.ts'
import type { AwaitingStatus, Environment, LocationRecord } from './model.ts'
import type { TransactionStore, V1Unit } from './ports.ts'
import { receiptOfTransaction } from './receipt-of-transaction.ts'

/**
 * The transactions API v1 for a country whose market signs its receipts (docs/transactions-api-v1.md,
 * "Locations signed by their country's market"): one contract for both APIs. Each location has a cash box
 * per environment (location-cashboxes.ts); a transaction becomes a POS System API v2 receipt
 * (receipt-of-transaction.ts) that the core signs on that cash box through the market, exactly as /v2/sign
 * does, with the transaction id as operation id.
 *
 * The seal, inside the transaction's commit, fixes the receipt in the location's v1 chain; the signing runs
 * in the outbox like an authority's delivery (so a market with an external unit, such as an RT printer, never
 * holds the commit), attempted inline by the request that stored it. The operation id makes the signing
 * happen once: after a lost answer it is looked up, never signed twice.
 */

/** How the location's cash boxes are signed on (core/v1/location-cashboxes.ts). */
export interface LocationSigning {
  /** Checks the receipt as /v2/sign would before storing anything (a 400 naming the field). */
  check(location: LocationRecord, body: ReceiptRequestBody): void
  /** Signs the receipt once per operation id; the ReceiptResponse as JSON text. */
  sign(
    location: LocationRecord,
    environment: Environment,
    operationId: string,
    body: ReceiptRequestBody,
  ): Promise<string>
  /** The ReceiptResponse of an operation signed before, or undefined when it never was. */
  signed(location: LocationRecord, environment: Environment, operationId: string): Promise<string | undefined>
  /** Makes the location's cash boxes (created, given the location's settings) before its first receipt. */
  prepare(location: LocationRecord): Promise<void>
  /** The ids of the location's cash boxes by environment, shown with the location. */
  cashboxIds(location: LocationRecord): Record<Environment, string>
  /** Checks a location's country_config as the market's cash box settings. */
  checkSettings(country: string, settings: Record<string, unknown>): void
  /** What the location keeps of those settings: without the secrets that the market seals. */
  storedSettings(country: string, settings: Record<string, unknown>): Record<string, unknown>
  /** The country's market when it seals transactions in their commit (`Market.transactions`). */
  sealerOf(country: string): TransactionSealer | undefined
}

/** The record a location's v1 chain keeps of a transaction: the receipt it became. */
interface ReceiptRecord {
  format: typeof RECEIPT_RECORD_FORMAT
  receipt: ReceiptRequestBody
}

export const RECEIPT_RECORD_FORMAT = 'fiscalbox-receipt-v1'

/** The text of the record of a transaction that became `receipt`. */
export const receiptRecordText = (receipt: ReceiptRequestBody): string =>
  canonicalJson({ format: RECEIPT_RECORD_FORMAT, receipt } satisfies ReceiptRecord)

const receiptOfRecord = (text: string): ReceiptRequestBody => {
  const parsed = JSON.parse(text) as ReceiptRecord
  if (parsed.format !== RECEIPT_RECORD_FORMAT) throw new Error('not a receipt record of fiscalbox')
  return parsed.receipt
}

/** A failure of the signing that sending the same receipt again cannot cure (the POS or the settings must change). */
const RETRYABLE = new Set<string>([
  ErrorCode.DeviceNotReachable,
  ErrorCode.ServiceUnavailable,
  ErrorCode.DatabaseUnavailable,
  ErrorCode.OperationInProgress,
  ErrorCode.RateLimited,
  ErrorCode.Internal,
])
const isRefusal = (error: unknown): error is FiscalError =>
  error instanceof FiscalError && !RETRYABLE.has(error.code)

/** ftState's low 32 bits 0xEEEEEEEE: the market did not issue the document (e.g. the RT device refused it). */
const ERROR_STATE = 0xeeee_eeeen

function answerOf(responseText: string): Exclude<RecordAnswer<AuthorityAnswer>, { kind: 'duplicate' }> {
  const response = JSON.parse(responseText) as {
    ftState: string
    ftReceiptIdentification?: string
    ftSignatures?: Array<{ Caption?: string; Data?: string }>
  }
  const answer: AuthorityAnswer = {
    status: 'registered',
    fiscalId: response.ftReceiptIdentification ?? null,
    response,
  }
  if ((BigInt(response.ftState) & 0xffff_ffffn) !== ERROR_STATE) return { kind: 'settled', answer }
  const reason = response.ftSignatures?.map((s) => [s.Caption, s.Data].filter(Boolean).join(': ')).join('; ')
  return { kind: 'refused', error: `the market did not issue the document: ${reason}`, answer }
}

const refusalAnswer = (error: FiscalError): AuthorityAnswer => ({
  status: 'registered',
  response: { error: { code: error.code, message: error.message, ...(error.details ?? {}) } },
})

function signingClient(
  signing: LocationSigning,
  location: LocationRecord,
  environment: Environment,
): AuthorityClient {
  return {
    // Each receipt is signed on its own in the queue's order; one attempt takes a stretch of the chain.
    maxBatch: 100,
    mayShare: () => true,
    async submit(records, hooks) {
      await hooks.sending()
      const answers: RecordAnswer<AuthorityAnswer>[] = []
      for (const record of records) {
        try {
          const receipt = receiptOfRecord(record.record)
          answers.push(answerOf(await signing.sign(location, environment, record.transactionId, receipt)))
        } catch (error) {
          if (!isRefusal(error)) break
          answers.push({ kind: 'refused', error: error.message, answer: refusalAnswer(error) })
        }
      }
      // Records without an answer (from the first failure on) are unknown: looked up before the next attempt.
      return { kind: 'answered', answers }
    },
    async query(record) {
      const text = await signing.signed(location, environment, record.transactionId)
      if (text === undefined) return { kind: 'not_registered' }
      const answer = answerOf(text)
      return answer.kind === 'settled'
        ? { kind: 'registered', answer: answer.answer }
        : { kind: 'conflicting', error: answer.error, answer: answer.answer }
    },
  }
}

/**
 * The v1 fiscalizer of a country whose market signs: the same market, the same core, as /v2/sign. A market
 * that seals transactions itself (`Market.transactions`) seals each in the transaction's commit instead, on
 * the location's cash box, and delivers it with its own jobs.
 */
export function marketSignedFiscalizer(country: string, signing: LocationSigning): Fiscalizer {
  const code = countryCode(country)
  const location = {
    name: `market:${country}`,
    validateConfig: (config: Record<string, unknown>) => signing.checkSettings(country, config),
    storedConfig: (config: Record<string, unknown>) => signing.storedSettings(country, config),
    prepareLocation: (location: LocationRecord) => signing.prepare(location),
    locationDetails: (location: LocationRecord) => ({ cashboxes: signing.cashboxIds(location) }),
  }
  /** The transaction as the receipt its location's cash box takes, checked as /v2/sign checks it. */
  const receiptOf = (input: FiscalInput) => {
    const original = input.original?.record ? receiptOfRecord(input.original.record.record) : undefined
    const receipt = receiptOfTransaction(input, code, original)
    signing.check(input.location, receipt)
    return { receipt, record: receiptRecordText(receipt) }
  }
  const sealer = signing.sealerOf(country)
  if (sealer)
    return {
      ...location,
      async seal(context: SealContext, input: FiscalInput): Promise<SealedRecord> {
        const { receipt, record } = receiptOf(input)
        const { environment } = input
        const sealed = await sealer.sealTransaction(
          {
            queueId: locationQueueId(input.location.id, environment),
            cashboxId: locationCashboxId(input.location.id, environment),
            countryCode: code,
            queueRow: context.sequence,
            receiptNumber: context.sequence,
            previousHash: context.previousHash,
            // A sale's document is dated as the POS sold (the transaction's timestamp), a cancellation now.
            moment: input.type === 'sale' ? new Date(input.timestamp) : context.now,
            requestHash: sha256Hex(record),
            signer: context.signer,
            // The location's chain row keeps the market's state of the location's chain.
            marketState: context.state,
            unit: context.unit,
          },
          parseReceipt(receipt),
          {
            reserveMs: context.inlineMs,
            ...(context.certificate ? { certificate: context.certificate } : {}),
          },
        )
        return {
          // The document's own chain hash (e.g. a Huella) is the location chain's.
          hash: sealed.hash,
          state: sealed.marketState,
          record,
          fiscalId: sealed.fiscalId,
          payload: {
            fiscalizer: `market:${country}`,
            ...sealed.payload,
            sequence: context.sequence,
            hash: sealed.hash,
            previous_hash: context.previousHash,
          },
          ...(sealed.awaiting ? { initialStatus: sealed.awaiting } : {}),
          delivery: sealed.delivery,
        }
      },
    }
  return {
    ...location,
    async seal(context: SealContext, input: FiscalInput): Promise<SealedRecord> {
      const { receipt, record } = receiptOf(input)
      const hash = createHash('sha256')
        .update(Buffer.from(context.previousHash, 'hex'))
        .update(record, 'utf8')
        .digest('hex')
      return { hash, record, fiscalId: null, payload: { fiscalizer: `market:${country}`, receipt } }
    },
    authority: (location, environment) => signingClient(signing, location, environment),
  }
}

/**
 * What a market that seals transactions in their commit (`Market.transactions`) gives for one: the document
 * as the location's chain and the transaction show it, and its delivery job.
 */
export interface SealedTransaction {
  /** The market's state of the location's chain after this document (kept on the chain row). */
  marketState: string
  /** The document's chain hash: the location chain's hash of this record. */
  hash: string
  fiscalId: string
  /** What the transaction shows of the document (response_payload.record). */
  payload: Record<string, unknown>
  /** A printable document's status until the authority answers; none: `pending`. */
  awaiting?: AwaitingStatus
  /** The document's delivery job, enqueued with it; held: it waits for a batch window (no inline attempt). */
  delivery: { jobId: string; held: boolean }
}

export interface TransactionSealer {
  /**
   * Issues the document of a transaction's receipt on the location's cash box in the transaction's commit
   * (`context.unit`; `context.marketState` is the location chain's state) and enqueues its delivery, kept
   * for the request's inline attempt for `reserveMs`. `certificate`: the stored certificate the location
   * names, read before the commit.
   */
  sealTransaction(
    context: SigningContext,
    receipt: Receipt,
    options: { reserveMs: number; certificate?: CertificateMaterial },
  ): Promise<SealedTransaction>
}

/**
 * How a market's delivery job reports on the documents of the transactions it sealed (by transaction id,
 * the receipt reference), so that each transaction follows its document to the authority.
 */
export interface TransactionDeliveries {
  /** Right before the documents leave: their transactions show the attempt. */
  sending(accountId: string, transactionIds: readonly string[]): Promise<void>
  /** An attempt that must be tried again, in the job's commit. */
  retrying(unit: V1Unit, accountId: string, transactionId: string, error: string): Promise<void>
  /**
   * The authority's answer: registered (success), or refused for good (kept; the dead letter follows).
   * Without a unit (a document an attempt took along without its job), in a commit of its own.
   */
  answered(
    unit: V1Unit | undefined,
    accountId: string,
    transactionId: string,
    answer: { registered: boolean; response: Record<string, unknown> },
  ): Promise<void>
  dead(unit: V1Unit, job: JobRecord, transactionId: string, error: string): Promise<void>
  revived(unit: V1Unit, transactionId: string): Promise<void>
}

/** The transactions' side of a market's deliveries, written as the outbox's own submissions write it. */
export function transactionDeliveries(
  store: Pick<TransactionStore, 'unit'>,
  outcomes: DeliveryOutcomes,
): TransactionDeliveries {
  const inUnit = (unit: V1Unit | undefined, work: (unit: V1Unit) => Promise<void>) =>
    unit ? work(unit) : store.unit(work)
  return {
    sending: (accountId, ids) =>
      store.unit(async (unit) => {
        const at = new Date().toISOString()
        for (const id of ids) {
          const transaction = await unit.findTransaction(accountId, id)
          if (transaction)
            await outcomes.attempt(unit, transaction, {
              status: 'processing',
              submittedAt: transaction.submittedAt ?? at,
              updatedAt: at,
            })
        }
      }),
    async retrying(unit, accountId, id, error) {
      const transaction = await unit.findTransaction(accountId, id)
      if (transaction)
        await outcomes.attempt(unit, transaction, {
          status: 'failed',
          errorMessage: error,
          updatedAt: new Date().toISOString(),
        })
    },
    answered: (given, accountId, id, answer) =>
      inUnit(given, async (unit) => {
        const transaction = await unit.findTransaction(accountId, id)
        if (!transaction) return
        if (answer.registered)
          await outcomes.answered(
            unit,
            transaction,
            { status: 'registered', response: answer.response },
            transaction.fiscalId,
          )
        else await outcomes.refused(unit, transaction, answer.response)
      }),
    dead: (unit, job, id, error) => outcomes.dead(unit, job, id, error),
    revived: (unit, id) => outcomes.revived(unit, id),
  }
}
