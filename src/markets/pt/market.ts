import { SignatureFormat, v2Code } from '../../core/case-codes.ts'
import { isCp1252 } from '../../core/cp1252.ts'
import { ErrorCode, FiscalError, invalid } from '../../core/errors.ts'
import type {
  CashboxSettings,
  MarketOutcome,
  SignatureItem,
  SigningContext,
  SigningUnitView,
} from '../../core/market.ts'
import type { Receipt } from '../../core/receipt.ts'
import { type Micros, parseDecimal } from '../../core/money.ts'
import type { MasterKey } from '../../core/secrets.ts'
import { isValidNif, parsePtConfig } from './configuration.ts'
import { CONTROL, checkLines, documentLines, money, paymentMechanism } from './document-lines.ts'
import { localDateTime } from './local-time.ts'
import type { PtCashboxConfig, PtDocument, PtSeries, PtStore } from './ports.ts'
import { qrString } from './qr-code.ts'
import { ptReceiptKind } from './receipt-kind.ts'
import { notConfigured, PtKeys, type PtMarket, type PtServices, ptServices } from './services.ts'
import { certifiedMention, printedHash, signDocument } from './signature.ts'

/** ftSignatureType low parts of the Portuguese signature items (docs/country-pt.md). */
export const PT_SIGNATURE = {
  qr: 0x01n,
  atcud: 0x10n,
  mention: 0x14n,
  reference: 0x15n,
  notice: 0x16n,
  /** the full hash: in the response and the journal, not printed (0x20_0000) */
  hash: 0x20_0012n,
} as const

/** The anonymous final consumer of SAF-T and the QR code. */
const FINAL_CONSUMER = { taxId: '999999990', name: 'Consumidor final', country: 'PT' }

/** Where each series of a queue stands, kept in the market state (committed with the receipt). */
interface ChainState {
  v: 1
  series: Record<string, { number: number; hash: string; entry: string }>
}

const parseState = (text: string | null): ChainState =>
  text ? (JSON.parse(text) as ChainState) : { v: 1, series: {} }

/** Options a handwritten document carries in ftReceiptCaseData.PT: the number printed on the paper. */
function manualOf(receipt: Receipt): { series: string; number: number } {
  const raw = receipt.caseData?.PT as Record<string, unknown> | undefined
  const series = raw?.Series
  const number = raw?.Number
  if (typeof series !== 'string' || !/^[A-Za-z0-9_.-]{1,35}$/.test(series))
    throw invalid(
      'ftReceiptCaseData.PT.Series',
      'a handwritten document names the series printed on the paper, e.g. {"PT": {"Series": "M2025", "Number": 17}}',
    )
  if (!Number.isSafeInteger(number) || (number as number) < 1)
    throw invalid('ftReceiptCaseData.PT.Number', 'must be the number printed on the handwritten document')
  return { series, number: number as number }
}

function customerOf(receipt: Receipt): PtDocument['customer'] {
  const c = receipt.customer
  const taxId = typeof c?.CustomerVATId === 'string' ? c.CustomerVATId.replace(/^PT/, '') : ''
  if (!taxId || taxId === FINAL_CONSUMER.taxId) return FINAL_CONSUMER
  const country =
    typeof c?.CustomerCountry === 'string' && /^[A-Z]{2}$/.test(c.CustomerCountry) ? c.CustomerCountry : 'PT'
  if (country === 'PT' ? !isValidNif(taxId) : !/^[A-Za-z0-9]{1,30}$/.test(taxId))
    throw invalid(
      'cbCustomer.CustomerVATId',
      'must be a Portuguese NIF (nine digits, valid check digit), or a foreign VAT id of up to 30 letters and digits with CustomerCountry',
    )
  const given = typeof c?.CustomerName === 'string' ? c.CustomerName.trim() : ''
  if (CONTROL.test(given) || !isCp1252(given))
    throw invalid(
      'cbCustomer.CustomerName',
      'must be Windows-1252 text (the SAF-T file’s encoding) without control characters',
    )
  const name = given ? given.slice(0, 100) : taxId
  return { taxId, name, country }
}

const referencesOf = (receipt: Receipt): string[] =>
  receipt.previousReference === undefined
    ? []
    : Array.isArray(receipt.previousReference)
      ? receipt.previousReference
      : [receipt.previousReference]

const firstReference = (receipt: Receipt): string | undefined => referencesOf(receipt)[0]

const paidTotal = (receipt: Receipt): Micros => receipt.payItems.reduce((sum, item) => sum + item.amount, 0n)

const payMechanisms = (receipt: Receipt): PtDocument['payments'] =>
  receipt.payItems.map((item) => ({
    mechanism: paymentMechanism(item),
    amount: money(item.amount < 0n ? -item.amount : item.amount),
  }))

/** A payment receipt pays something, names the invoices it settles, and whom (cbCustomer). */
function checkPayment(receipt: Receipt): void {
  if (paidTotal(receipt) <= 0n)
    throw invalid(
      'cbPayItems',
      'a payment receipt (RG) records an amount paid: the pay items add up to more than 0',
    )
  if (referencesOf(receipt).length === 0)
    throw invalid(
      'cbPreviousReceiptReference',
      'a payment receipt (RG) names the receipt(s) of the invoice(s) it settles',
    )
  customerOf(receipt)
}

const text = (country: number, type: bigint, caption: string, data: string): SignatureItem => ({
  ftSignatureFormat: SignatureFormat.Text,
  ftSignatureType: v2Code(country, type),
  Caption: caption,
  Data: data,
})

/**
 * Portugal: every invoice-type document is signed with the cash box's RSA key (SHA-1) over its dates,
 * number, total and the previous document's signature in the same series, and carries its ATCUD and QR
 * code. See docs/country-pt.md.
 */
export class PortugueseMarket implements PtMarket {
  readonly name = 'pt'
  readonly pt: PtServices
  private readonly keys: PtKeys

  constructor(
    private readonly store: PtStore,
    master: MasterKey,
  ) {
    this.keys = new PtKeys(master)
    this.pt = ptServices(store, master)
  }

  /** A transactions API location's country_config takes the fields of PUT /pt/v1/cashbox, its key included. */
  readonly cashboxSettings: CashboxSettings = {
    check: (settings) => {
      if (!parsePtConfig(settings).privateKey)
        throw invalid('privateKey', 'is required: the PEM of the RSA key registered with the AT')
    },
    apply: async (cashbox, settings) => void (await this.pt.configure(cashbox.id, settings)),
    // The key is sealed in the PT store by `apply`; the location keeps the rest.
    stored: ({ privateKey: _, ...settings }) => settings,
  }

  /** The key the cash box signs its documents with, registered with the AT under its version. */
  async signingUnits({ id }: { id: string }): Promise<SigningUnitView[]> {
    const config = await this.store.config(id)
    if (!config) return [{ Type: 'signing key', Id: null, State: 'not configured: PUT /pt/v1/cashbox' }]
    return [
      {
        Type: 'signing key',
        Id: `${config.certificateNumber}/AT key version ${config.keyVersion}`,
        State: 'in service',
        Details: {
          certificateNumber: config.certificateNumber,
          keyVersion: config.keyVersion,
          publicKey: config.publicKey,
        },
      },
    ]
  }

  validate(receipt: Receipt): void {
    const kind = ptReceiptKind(receipt)
    if (kind.kind === 'void' && firstReference(receipt) === undefined)
      throw invalid('cbPreviousReceiptReference', 'a void names the receipt whose document it cancels')
    if (kind.kind !== 'document') return
    if (kind.documentType === 'RG') return checkPayment(receipt)
    if (kind.documentType === 'NC' && firstReference(receipt) === undefined)
      throw invalid(
        'cbPreviousReceiptReference',
        'a credit note names the receipt of the document it corrects',
      )
    if (kind.manual) manualOf(receipt)
    customerOf(receipt)
    checkLines(receipt, kind.documentType === 'FS')
  }

  async seal(context: SigningContext, receipt: Receipt): Promise<MarketOutcome> {
    const kind = ptReceiptKind(receipt)
    if (kind.kind === 'none') return { signatures: [] }
    const config = await this.store.configIn(context.unit, context.cashboxId)
    if (!config) throw notConfigured()
    if (kind.kind === 'void') return this.cancel(context, receipt, config)
    const { documentType, manual } = kind
    const series = config.series.find((s) => s.documentType === documentType && s.manual === manual)
    if (!series)
      throw new FiscalError(
        ErrorCode.ValidationError,
        `ftReceiptCase: this cash box has no ${manual ? 'manual ' : ''}${documentType} series registered with the AT: add it to the configuration (PUT /pt/v1/cashbox)`,
        {
          field: 'ftReceiptCase',
          reason: `needs a registered ${manual ? 'manual ' : ''}${documentType} series (series[].documentType ${documentType}${manual ? ', manual true' : ''})`,
        },
      )
    const state = parseState(context.marketState)
    const chainKey = `${documentType} ${series.series}`
    const last = state.series[chainKey] ?? { number: series.lastNumber, hash: series.lastHash, entry: '' }
    const systemEntryDate = localDateTime(context.moment, config.region)
    if (systemEntryDate < last.entry)
      throw new FiscalError(
        ErrorCode.Conflict,
        `the clock is behind the last ${documentType} document of series ${series.series} (${last.entry}): Portuguese documents never go back in time`,
      )
    if (documentType === 'RG') {
      const outcome = await this.payment(context, receipt, config, series, last.number + 1, systemEntryDate)
      state.series[chainKey] = { number: last.number + 1, hash: '', entry: systemEntryDate }
      return { ...outcome, marketState: JSON.stringify(state) }
    }
    const paper = manual ? manualOf(receipt) : undefined
    const invoiceDate = paper
      ? localDateTime(receipt.moment, config.region).slice(0, 10)
      : systemEntryDate.slice(0, 10)
    if (invoiceDate > systemEntryDate.slice(0, 10))
      throw invalid('cbReceiptMoment', 'a handwritten document is entered after it was written, not before')
    const references: string[] = []
    if (documentType === 'NC') references.push(await this.corrected(context, receipt))
    const number = last.number + 1
    const invoiceNo = `${documentType} ${series.series}/${number}`
    const lines = documentLines(receipt, config.region)
    const grossTotal = money(lines.gross)
    const hash = signDocument(this.keys.of(config), {
      invoiceDate,
      systemEntryDate,
      invoiceNo,
      grossTotal,
      previousHash: last.hash,
    })
    const customer = customerOf(receipt)
    const document: PtDocument = {
      queueId: context.queueId,
      queueRow: context.queueRow,
      receiptReference: receipt.reference,
      documentType,
      series: series.series,
      number,
      invoiceNo,
      atcud: `${series.validationCode}-${number}`,
      invoiceDate,
      systemEntryDate,
      grossTotal,
      netTotal: money(lines.net),
      taxPayable: money(lines.tax),
      hash,
      hashControl: paper
        ? `${config.keyVersion}-${documentType}M ${paper.series}/${paper.number}`
        : String(config.keyVersion),
      sourceBilling: paper ? 'M' : 'P',
      status: 'N',
      statusDate: systemEntryDate,
      customer,
      lines: lines.lines,
      references,
      payments: payMechanisms(receipt),
    }
    await this.store.insertDocumentIn(context.unit, document)
    state.series[chainKey] = { number, hash, entry: systemEntryDate }
    const country = context.countryCode
    const qr = qrString({
      A: config.nif,
      B: customer.taxId,
      C: customer.country,
      D: documentType,
      E: 'N',
      F: invoiceDate.replaceAll('-', ''),
      G: invoiceNo,
      H: document.atcud,
      I1: config.region,
      I2: money(lines.byRate.exempt),
      I3: money(lines.byRate.RED[0]),
      I4: money(lines.byRate.RED[1]),
      I5: money(lines.byRate.INT[0]),
      I6: money(lines.byRate.INT[1]),
      I7: money(lines.byRate.NOR[0]),
      I8: money(lines.byRate.NOR[1]),
      N: document.taxPayable,
      O: grossTotal,
      Q: printedHash(hash),
      R: config.certificateNumber,
    })
    const signatures: SignatureItem[] = [
      text(country, PT_SIGNATURE.hash, 'Hash', hash),
      text(country, PT_SIGNATURE.mention, '', certifiedMention(hash, config.certificateNumber)),
      text(country, PT_SIGNATURE.atcud, '', `ATCUD:${document.atcud}`),
      {
        ftSignatureFormat: SignatureFormat.QrCode,
        ftSignatureType: v2Code(country, PT_SIGNATURE.qr),
        Caption: `${invoiceNo} ATCUD:${document.atcud}`,
        Data: qr,
      },
      text(country, PT_SIGNATURE.notice, '', 'IVA incluído'),
    ]
    if (references[0])
      signatures.push(
        text(country, PT_SIGNATURE.reference, `Referência: ${references[0]}`, 'Razão: Devolução'),
      )
    if (paper)
      signatures.push(
        text(
          country,
          PT_SIGNATURE.notice,
          '',
          `Cópia do documento original - ${documentType}M ${paper.series}/${paper.number}`,
        ),
      )
    if (customer === FINAL_CONSUMER)
      signatures.push(text(country, PT_SIGNATURE.notice, '', FINAL_CONSUMER.name))
    return { signatures, identificationSuffix: invoiceNo, marketState: JSON.stringify(state) }
  }

  /**
   * A payment receipt (RG): numbered in its series with its ATCUD and QR code, but not signed (SAF-T
   * Payment has no Hash). It settles the invoices its receipt names, in their order: each takes what it
   * still can of the amount paid.
   */
  private async payment(
    context: SigningContext,
    receipt: Receipt,
    config: PtCashboxConfig,
    series: PtSeries,
    number: number,
    systemEntryDate: string,
  ): Promise<MarketOutcome> {
    let left = paidTotal(receipt)
    const settles: NonNullable<PtDocument['settles']> = []
    const names = referencesOf(receipt)
    for (const [i, reference] of names.entries()) {
      const original = await this.store.documentOfReferenceIn(context.unit, context.queueId, reference)
      if (!original || original.documentType !== 'FT' || original.status !== 'N')
        throw invalid(
          'cbPreviousReceiptReference',
          `must name the receipts of valid invoices (FT) of this cash box (no valid FT for "${reference}")`,
        )
      const gross = parseDecimal(original.grossTotal, 'GrossTotal')
      const amount = i === names.length - 1 ? left : left < gross ? left : gross
      if (amount <= 0n || amount > gross)
        throw invalid(
          'cbPayItems',
          `the amount paid must settle something of every invoice named and at most their GrossTotal (${original.invoiceNo}: ${original.grossTotal})`,
        )
      settles.push({
        invoiceNo: original.invoiceNo,
        invoiceDate: original.invoiceDate,
        amount: money(amount),
      })
      left -= amount
    }
    const invoiceNo = `RG ${series.series}/${number}`
    const atcud = `${series.validationCode}-${number}`
    const customer = customerOf(receipt)
    const total = money(paidTotal(receipt))
    const invoiceDate = systemEntryDate.slice(0, 10)
    await this.store.insertDocumentIn(context.unit, {
      queueId: context.queueId,
      queueRow: context.queueRow,
      receiptReference: receipt.reference,
      documentType: 'RG',
      series: series.series,
      number,
      invoiceNo,
      atcud,
      invoiceDate,
      systemEntryDate,
      grossTotal: total,
      netTotal: total,
      taxPayable: money(0n),
      hash: '',
      hashControl: '',
      sourceBilling: 'P',
      status: 'N',
      statusDate: systemEntryDate,
      customer,
      lines: [],
      references: settles.map((s) => s.invoiceNo),
      payments: payMechanisms(receipt),
      settles,
    })
    const country = context.countryCode
    const qr = qrString({
      A: config.nif,
      B: customer.taxId,
      C: customer.country,
      D: 'RG',
      E: 'N',
      F: invoiceDate.replaceAll('-', ''),
      G: invoiceNo,
      H: atcud,
      // A payment document has no VAT block, and no signature to take four characters of.
      I1: '0',
      N: money(0n),
      O: total,
      Q: '0',
      R: config.certificateNumber,
    })
    return {
      signatures: [
        text(country, PT_SIGNATURE.atcud, '', `ATCUD:${atcud}`),
        {
          ftSignatureFormat: SignatureFormat.QrCode,
          ftSignatureType: v2Code(country, PT_SIGNATURE.qr),
          Caption: `${invoiceNo} ATCUD:${atcud}`,
          Data: qr,
        },
        ...settles.map((s) => text(country, PT_SIGNATURE.notice, '', `Origem: ${s.invoiceNo}`)),
        ...(customer === FINAL_CONSUMER ? [text(country, PT_SIGNATURE.notice, '', FINAL_CONSUMER.name)] : []),
      ],
      identificationSuffix: invoiceNo,
    }
  }

  /** The document a credit note corrects: a valid invoice or simplified invoice of the same queue. */
  private async corrected(context: SigningContext, receipt: Receipt): Promise<string> {
    const reference = firstReference(receipt) as string
    const original = await this.store.documentOfReferenceIn(context.unit, context.queueId, reference)
    if (!original || original.documentType === 'NC' || original.status !== 'N')
      throw invalid(
        'cbPreviousReceiptReference',
        `must name the receipt of a valid invoice or simplified invoice of this cash box (no valid FT or FS for "${reference}")`,
      )
    return original.invoiceNo
  }

  /** A void takes no number: it marks the named document cancelled (SAF-T status A). */
  private async cancel(
    context: SigningContext,
    receipt: Receipt,
    config: PtCashboxConfig,
  ): Promise<MarketOutcome> {
    const reference = firstReference(receipt) as string
    const original = await this.store.documentOfReferenceIn(context.unit, context.queueId, reference)
    if (!original || original.status !== 'N')
      throw invalid(
        'cbPreviousReceiptReference',
        `must name the receipt of a document of this cash box that is not cancelled yet (none for "${reference}")`,
      )
    await this.store.cancelIn(
      context.unit,
      context.queueId,
      original.invoiceNo,
      localDateTime(context.moment, config.region),
    )
    return {
      signatures: [text(context.countryCode, PT_SIGNATURE.notice, '', `Anulado: ${original.invoiceNo}`)],
      identificationSuffix: original.invoiceNo,
    }
  }
}
