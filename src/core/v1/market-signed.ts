import { createHash } from 'node:crypto'
import { canonicalJson } from '../canonical-json.ts'
import { countryCode } from '../case-codes.ts'
import { ErrorCode, FiscalError } from '../errors.ts'
import type { RecordAnswer } from '../delivery.ts'
import type { ReceiptRequestBody } from '../receipt.ts'
import type {
  AuthorityAnswer,
  AuthorityClient,
  Fiscalizer,
  FiscalInput,
  SealContext,
  SealedRecord,
} from './fiscalizer.ts'
import type { Environment, LocationRecord } from './model.ts'
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
}

/** The record a location's v1 chain keeps of a transaction: the receipt it became. */
interface ReceiptRecord {
  format: typeof RECEIPT_RECORD_FORMAT
  receipt: ReceiptRequestBody
}

export const RECEIPT_RECORD_FORMAT = 'fiscalbox-receipt-v1'

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

/** The v1 fiscalizer of a country whose market signs: the same market, the same core, as /v2/sign. */
export function marketSignedFiscalizer(country: string, signing: LocationSigning): Fiscalizer {
  const code = countryCode(country)
  return {
    name: `market:${country}`,
    validateConfig: (config) => signing.checkSettings(country, config),
    storedConfig: (config) => signing.storedSettings(country, config),
    async seal(context: SealContext, input: FiscalInput): Promise<SealedRecord> {
      const original = input.original?.record ? receiptOfRecord(input.original.record.record) : undefined
      const receipt = receiptOfTransaction(input, code, original)
      signing.check(input.location, receipt)
      const record = canonicalJson({ format: RECEIPT_RECORD_FORMAT, receipt } satisfies ReceiptRecord)
      const hash = createHash('sha256')
        .update(Buffer.from(context.previousHash, 'hex'))
        .update(record, 'utf8')
        .digest('hex')
      return { hash, record, fiscalId: null, payload: { fiscalizer: `market:${country}`, receipt } }
    },
    authority: (location, environment) => signingClient(signing, location, environment),
    prepareLocation: (location) => signing.prepare(location),
    locationDetails: (location) => ({ cashboxes: signing.cashboxIds(location) }),
  }
}
