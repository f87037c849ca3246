import { createHash } from 'node:crypto'
import { hasFlag, ReceiptFlag, SignatureFormat, State, v2Code } from '../../../core/case-codes.ts'
import { ErrorCode, FiscalError, invalid } from '../../../core/errors.ts'
import type {
  Market,
  MarketOutcome,
  SignatureItem,
  SigningContext,
  SigningUnitView,
} from '../../../core/market.ts'
import type { Receipt } from '../../../core/receipt.ts'
import { timeOrderedId } from '../../../core/time-ordered-id.ts'
import type { SealedTransaction, TransactionSealer } from '../../../core/v1/market-signed.ts'
import { awaitingStatus } from '../../../core/v1/model.ts'
import {
  issueCancellation,
  issueSale,
  newSpainState,
  type Sale,
  type SpainDocument,
  type SpainState,
} from '../documents.ts'
import { sandboxSigningCredentials } from '../sandbox-signer.ts'
import type { SigningCredentials } from '../ticketbai/xades.ts'
import type { SpanishSoftware } from '../software.ts'
import { issuerOf } from './configuration.ts'
import { certificateSummary, recordCredentials } from './certificates.ts'
import type { CertificateMaterial, CertificateSource } from '../../../core/certificates/certificates.ts'
import { type LroeSchedule, lroeHoldOf } from '../ticketbai/lroe-window.ts'
import { TERRITORY_RULES } from '../ticketbai/territories.ts'
import type { EsCashboxConfig, EsRecord, EsStore, EsSubmissionJob } from './ports.ts'
import { esReceiptAction } from './receipt-records.ts'

export const ES_COUNTRY = 0x4553

/** ftSignatureType low parts of the Spanish signature items (docs/country-es.md). */
export const ES_SIGNATURE = { qr: 0x1n, identifier: 0x2n, invoiceNumber: 0x3n, cancellation: 0x4n } as const

/** The market's per-queue state: the position in the cash box's chain and documents.ts's numbering and chain. */
interface EsQueueState {
  v: 1
  /** records made so far (the seq of the last one in es_records) */
  seq: number
  spain: SpainState
}

const parseState = (text: string | null): EsQueueState =>
  text ? (JSON.parse(text) as EsQueueState) : { v: 1, seq: 0, spain: newSpainState() }

export interface EsSigningOptions {
  software: SpanishSoftware
  /** TicketBAI signing certificate of test cash boxes; a self-signed one is made when absent. */
  testCredentials?: SigningCredentials
  /** Attempts of a record's submission job before it goes to the dead letter. */
  maxAttempts: number
  /** When Bizkaia's LROE batches go out (FISCALBOX_ES_LROE_AT), as for v1 locations. */
  lroeSchedule: LroeSchedule
  /** The outbox's clock (epoch milliseconds): a record's submission is due from then, or from its window. */
  clock: () => number
  /**
   * VERI*FACTU records are due at the next multiple of this many milliseconds of the clock: the records a
   * cash box makes within one tick are claimed together and go in one submission instead of one each.
   */
  submissionTickMs: number
  /** The accounts' stored certificates: the one a cash box's configuration names signs and authenticates. */
  certificates?: CertificateSource
}

export const notConfigured = () =>
  new FiscalError(
    ErrorCode.MarketNotConfigured,
    'this Spanish cash box is not configured: set its system (verifactu or ticketbai), issuer NIF and name first (PUT /es/v1/cashbox or `fiscalbox es configure`, see docs/country-es.md)',
    { field: 'headers.x-cashbox-id', reason: 'the cash box is not configured for Spain yet' },
  )

const INVOICE_CAPTIONS: Record<string, string> = {
  F1: 'Factura',
  F2: 'Factura simplificada',
  R1: 'Factura rectificativa',
  R5: 'Factura rectificativa (simplificada)',
}

/**
 * Spain on /v2/sign (VERI*FACTU or TicketBAI per cash box): each invoicing receipt becomes the next
 * document of the cash box's chain (documents.ts), stored with its submission job in the receipt's
 * commit; the outbox submits it later (submission-job.ts), so the answer carries "message pending".
 */
export class SpanishPosMarket implements Market {
  readonly name = 'es'
  readonly transactions: TransactionSealer = {
    sealTransaction: (context, receipt, options) => this.sealTransaction(context, receipt, options),
  }
  private sandbox: Promise<SigningCredentials> | undefined
  private readonly accounts = new Map<string, string>()
  /** Configurations of cash boxes with records: fixed from the first record on, so kept in memory. */
  private readonly configs = new Map<string, EsCashboxConfig>()

  constructor(
    private readonly store: EsStore,
    private readonly options: EsSigningOptions,
  ) {}

  /** Where the cash box's records go, as PUT /es/v1/cashbox configured it, and which certificate they use. */
  async signingUnits({
    queueId,
    accountId,
  }: {
    queueId: string
    accountId: string
  }): Promise<SigningUnitView[]> {
    const config = await this.store.config(queueId)
    if (!config) return [{ Type: 'records system', Id: null, State: 'not configured: PUT /es/v1/cashbox' }]
    const certificate = await this.certificateView(accountId, config)
    return [
      {
        Type: config.system === 'verifactu' ? 'VERI*FACTU' : 'TicketBAI',
        Id: config.nif,
        State: config.environment === 'production' ? 'sending to the authority' : 'sending to its simulator',
        Details: { ...config, ...(certificate === undefined ? {} : { certificate }) },
      },
    ]
  }

  /**
   * The certificate a configuration names as it is now (replaced under the same id: its new subject and
   * expiry); null when the account no longer holds it; undefined when it names none.
   */
  async certificateView(accountId: string, config: EsCashboxConfig) {
    if (!config.certificateId) return undefined
    const stored = await this.options.certificates?.activeMaterial(accountId, config.certificateId)
    return stored ? certificateSummary(stored) : null
  }

  validate(receipt: Receipt): void {
    esReceiptAction(receipt)
  }

  async seal(context: SigningContext, receipt: Receipt): Promise<MarketOutcome> {
    const issued = await this.issue(context, receipt)
    if (!issued) return { signatures: [] }
    return {
      signatures: signaturesOf(context.countryCode, issued.document, issued.invoiceType),
      stateFlags: State.MessagePending,
      identificationSuffix: issued.document.invoiceNumber,
      marketState: issued.marketState,
    }
  }

  /**
   * A transaction of the API v1 on its location's cash box, in the transaction's commit: the same document,
   * record and submission job as a receipt's, and what the transaction shows of it. Its submission is kept
   * for the request's inline attempt for `reserveMs`; a TicketBAI invoice is signed with the stored
   * `certificate` the location names, which a production record must have (a 400 otherwise).
   */
  async sealTransaction(
    context: SigningContext,
    receipt: Receipt,
    { reserveMs, certificate }: { reserveMs: number; certificate?: CertificateMaterial },
  ): Promise<SealedTransaction> {
    const config = await this.configOf(context, parseState(context.marketState).seq > 0)
    const credentials = await recordCredentials(config, certificate, () => this.credentials())
    const issued = await this.issue(context, receipt, {
      reserveMs,
      customerInvoices: true,
      ...(credentials ? { credentials } : {}),
    })
    if (!issued) throw new Error('the receipt of a transaction made no Spanish record')
    const { document, job } = issued
    const value = document.record.value
    // The chain hash: VERI*FACTU's Huella; for TicketBAI (chained by signature values) the SHA-256 of the
    // signed document.
    const hash =
      document.record.system === 'verifactu'
        ? document.record.value.huella
        : createHash('sha256').update(document.record.value.xml, 'utf8').digest('hex').toUpperCase()
    const payload: Record<string, unknown> = {
      system: document.system,
      invoice_number: document.invoiceNumber,
      fiscal_id: document.fiscalId,
      qr_url: document.qrUrl,
      record_kind: value.kind,
    }
    if (document.record.system === 'verifactu') {
      const v = document.record.value
      payload.huella = v.huella
      payload.issue_date = v.issueDate
      if (v.kind === 'alta') {
        payload.invoice_type = v.invoiceType
        payload.total = v.total
        payload.tax_total = v.taxTotal
      }
    } else {
      const t = document.record.value
      payload.territory = t.territory
      payload.tbai_identifier = t.identifier
      payload.signature_value = t.signatureValue
      payload.issue_date = t.issueDate
      payload.total = t.total
      payload.xml = t.xml
    }
    const held = job.batchWindow !== undefined
    // Bizkaia's records go in its LROE batches, whether held for the daily one or sent at once.
    const territory = document.record.system === 'ticketbai' ? document.record.value.territory : undefined
    const lroe = territory !== undefined && TERRITORY_RULES[territory].channel === 'lroe'
    return {
      marketState: issued.marketState,
      hash,
      fiscalId: document.fiscalId,
      payload,
      // An invoice is final here (number, chain, QR; TicketBAI: signed, with its TBAI identifier): it may be
      // printed and cancelled while it waits for the authority, or for Bizkaia's LROE batch. A cancellation
      // is not cancellable and keeps the plain pending / processing / failed.
      ...(value.kind === 'alta' ? { awaiting: awaitingStatus(lroe ? 'lroe' : undefined) } : {}),
      delivery: { jobId: job.id, held },
    }
  }

  /**
   * The document a receipt makes, its record and submission job in the receipt's unit; none for no document.
   * A transaction's credentials come with it (read before its commit); a receipt's are read here.
   */
  private async issue(
    context: SigningContext,
    receipt: Receipt,
    transaction?: { reserveMs: number; customerInvoices: boolean; credentials?: SigningCredentials },
  ) {
    const action = esReceiptAction(receipt, transaction?.customerInvoices)
    // Training receipts and receipts of no fiscal document (closings, lifecycle, logs) make no record.
    if (action.kind === 'none' || hasFlag(receipt.caseCode, ReceiptFlag.Training)) return undefined
    const state = parseState(context.marketState)
    const config = await this.configOf(context, state.seq > 0)
    const issuer = issuerOf(
      context.cashboxId,
      config,
      this.options.software,
      transaction ? transaction.credentials : await this.receiptCredentials(context, config),
    )
    let made: { document: SpainDocument; state: SpainState }
    let invoiceType: string | undefined
    if (action.kind === 'void') {
      const original = await this.original(context, action.previous)
      made = issueCancellation(issuer, state.spain, original.document, context.moment)
    } else {
      const sale: Sale = {
        issuedAt: context.moment,
        ...action.lines,
        pricesIncludeTax: true,
        externalRef: receipt.reference.slice(0, 60),
        ...(action.customer ? { customer: action.customer } : {}),
      }
      if (action.kind === 'refund') {
        const original = await this.original(context, action.previous)
        const code = simplified(original) ? 'R5' : 'R1'
        if (code === 'R1' && !action.customer)
          throw invalid(
            'cbCustomer.CustomerVATId',
            `the refunded receipt was a complete invoice (${original.invoiceNumber}): its rectifying invoice (R1) needs the customer with a NIF`,
          )
        if (code === 'R5') delete sale.customer
        sale.rectifies = { code, original: original.document }
        invoiceType = code
      } else invoiceType = action.customer ? 'F1' : 'F2'
      made = inReceiptTerms(() => issueSale(issuer, state.spain, sale))
    }
    const { document } = made
    const seq = state.seq + 1
    const kind = document.record.value.kind
    const job = this.submissionJob(config, await this.accountOf(context), transaction?.reserveMs ?? 0)
    await this.store.insertRecordIn(
      context.unit,
      {
        queueId: context.queueId,
        seq,
        queueRow: context.queueRow,
        receiptReference: receipt.reference,
        invoiceNumber: document.invoiceNumber,
        kind,
        invoiceType: invoiceType ?? null,
        document,
        createdAt: context.moment.toISOString(),
      },
      job,
    )
    const marketState = JSON.stringify({ v: 1, seq, spain: made.state } satisfies EsQueueState)
    return { document, invoiceType, job, marketState }
  }

  /**
   * A record's submission job: due now (VERI*FACTU: at the next submission tick; a transaction's: after its
   * request's inline attempt), or, for a Bizkaia cash
   * box, held until the next LROE batch time (its invoices and cancellations go out together then, or
   * earlier by POST /es/v1/batches/lroe/run).
   */
  private submissionJob(config: EsCashboxConfig, accountId: string, reserveMs: number): EsSubmissionJob {
    const now = this.options.clock()
    const until = lroeHoldOf(this.options.lroeSchedule, config.territory, new Date(now))
    const tick = config.system === 'verifactu' ? Math.max(1, this.options.submissionTickMs) : 1
    // Kept for the inline attempt of a transaction's request (claimed by id): other workers take it only
    // if that node dies before it, once the request's timeout has passed.
    const due = Math.max(Math.ceil(now / tick) * tick, now + reserveMs)
    return {
      // Time-ordered like the receipt's own rows: appended to the jobs' primary-key index, not written into
      // a random page of it in every commit.
      id: timeOrderedId(),
      accountId,
      maxAttempts: this.options.maxAttempts,
      runAt: until?.getTime() ?? due,
      ...(until ? { batchWindow: 'lroe' } : {}),
    }
  }

  /** The invoice a void or refund is about: made by that receipt reference on this cash box, not cancelled. */
  private async original(context: SigningContext, reference: string): Promise<EsRecord> {
    const found = await this.store.invoiceOfReferenceIn(context.unit, context.queueId, reference)
    if (!found)
      throw invalid(
        'cbPreviousReceiptReference',
        `no Spanish invoice of this cash box was made by receipt ${JSON.stringify(reference)}`,
      )
    if (found.cancelled)
      throw invalid(
        'cbPreviousReceiptReference',
        `the invoice ${found.invoice.invoiceNumber} of receipt ${JSON.stringify(reference)} is cancelled already`,
      )
    return found.invoice
  }

  private async configOf(context: SigningContext, hasRecords: boolean): Promise<EsCashboxConfig> {
    const cached = hasRecords ? this.configs.get(context.queueId) : undefined
    if (cached) return cached
    const config = await this.store.configIn(context.unit, context.queueId)
    if (!config) throw notConfigured()
    this.configs.set(context.queueId, config)
    return config
  }

  private async accountOf(context: SigningContext): Promise<string> {
    let account = this.accounts.get(context.queueId)
    if (!account) {
      account = await this.store.accountOfIn(context.unit, context.queueId)
      this.accounts.set(context.queueId, account)
    }
    return account
  }

  /**
   * A /v2/sign receipt's credentials: the certificate its cash box names, read in the receipt's unit (the
   * version active now: a replacement counts from the next receipt; each version is opened once).
   */
  private async receiptCredentials(
    context: SigningContext,
    config: EsCashboxConfig,
  ): Promise<SigningCredentials | undefined> {
    const stored = config.certificateId
      ? await this.options.certificates?.activeMaterialIn(
          context.unit,
          await this.accountOf(context),
          config.certificateId,
        )
      : undefined
    return recordCredentials(config, stored, () => this.credentials())
  }

  private credentials(): Promise<SigningCredentials> {
    if (this.options.testCredentials) return Promise.resolve(this.options.testCredentials)
    this.sandbox ??= sandboxSigningCredentials()
    return this.sandbox
  }
}

/** Fields of documents.ts named as the POS sent them (cbCustomer, cbChargeItems). */
const RECEIPT_FIELDS: Record<string, string> = {
  recipient: 'cbCustomer',
  recipients: 'cbCustomer',
  items: 'cbChargeItems',
  tax_amount: 'cbChargeItems',
}

function inReceiptTerms<T>(issue: () => T): T {
  try {
    return issue()
  } catch (error) {
    const field = error instanceof FiscalError ? error.details?.field : undefined
    const renamed = field === undefined ? undefined : RECEIPT_FIELDS[field.split('.')[0] as string]
    if (!renamed || !(error instanceof FiscalError) || !error.details) throw error
    throw invalid(renamed, error.details.reason)
  }
}

const simplified = (record: EsRecord): boolean => record.invoiceType === 'F2' || record.invoiceType === 'R5'

function signaturesOf(
  country: number,
  document: SpainDocument,
  invoiceType: string | undefined,
): SignatureItem[] {
  const type = (low: bigint) => v2Code(country, low)
  const verifactu = document.record.system === 'verifactu'
  const identifier: SignatureItem = {
    ftSignatureFormat: SignatureFormat.Text,
    ftSignatureType: type(ES_SIGNATURE.identifier),
    Caption: verifactu ? 'Huella' : 'TBAI',
    Data: document.record.system === 'verifactu' ? document.record.value.huella : document.fiscalId,
  }
  if (document.record.value.kind === 'anulacion')
    return [
      {
        ftSignatureFormat: SignatureFormat.Text,
        ftSignatureType: type(ES_SIGNATURE.cancellation),
        Caption: 'Anulación de factura',
        Data: document.invoiceNumber,
      },
      identifier,
    ]
  return [
    {
      ftSignatureFormat: SignatureFormat.QrCode,
      ftSignatureType: type(ES_SIGNATURE.qr),
      Caption: verifactu ? 'VERI*FACTU' : 'TicketBAI',
      Data: document.qrUrl,
    },
    identifier,
    {
      ftSignatureFormat: SignatureFormat.Text,
      ftSignatureType: type(ES_SIGNATURE.invoiceNumber),
      Caption: INVOICE_CAPTIONS[invoiceType ?? 'F2'] ?? 'Factura',
      Data: document.invoiceNumber,
    },
  ]
}
