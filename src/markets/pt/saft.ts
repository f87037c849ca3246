import { parseDecimal } from '../../core/money.ts'
import { encodeCp1252 } from '../../core/cp1252.ts'
import { escapeText } from '../es/xml/serialize.ts'
import { money } from './document-lines.ts'
import type { PtCashboxConfig, PtDocument, PtStore } from './ports.ts'

export const SAFT_NAMESPACE = 'urn:OECD:StandardAuditFile-Tax:PT_1.04_01'
const PRODUCT_ID = 'fiscalbox/fiscalbox'
const PRODUCT_VERSION = '0.1'
const SOURCE_ID = 'fiscalbox'
const UNKNOWN = 'Desconhecido'
const ANONYMOUS_ID = '0'

/** The AT's wording of the exemption reasons (SAF-T TaxExemptionReason, at most 60 characters). */
const EXEMPTION_REASONS: Record<string, string> = {
  M01: 'Artigo 16.º, n.º 6 do CIVA',
  M02: 'Artigo 6.º do Decreto-Lei n.º 198/90',
  M04: 'Isento artigo 13.º do CIVA',
  M05: 'Isento artigo 14.º do CIVA',
  M06: 'Isento artigo 15.º do CIVA',
  M07: 'Isento artigo 9.º do CIVA',
  M09: 'IVA - não confere direito a dedução',
  M10: 'IVA - regime de isenção',
  M11: 'Regime particular do tabaco',
  M12: 'Regime da margem de lucro - Agências de viagens',
  M13: 'Regime da margem de lucro - Bens em segunda mão',
  M14: 'Regime da margem de lucro - Objetos de arte',
  M15: 'Regime da margem de lucro - Objetos de coleção e antiguidades',
  M16: 'Isento artigo 14.º do RITI',
  M19: 'Outras isenções',
  M20: 'IVA - regime forfetário',
  M21: 'IVA - não confere direito à dedução (ou expressão similar)',
  M25: 'Mercadorias à consignação',
  M26: 'Isenção de IVA com direito à dedução no cabaz alimentar',
  M30: 'IVA - autoliquidação',
  M31: 'IVA - autoliquidação',
  M32: 'IVA - autoliquidação',
  M33: 'IVA - autoliquidação',
  M34: 'IVA - autoliquidação',
  M40: 'IVA - autoliquidação',
  M41: 'IVA - autoliquidação',
  M42: 'IVA - autoliquidação',
  M43: 'IVA - autoliquidação',
  M99: 'Não sujeito ou não tributado',
}

const TAX_NAMES = { RED: 'Taxa reduzida', INT: 'Taxa intermédia', NOR: 'Taxa normal', ISE: 'Isenta' } as const

/** A leaf element, its text escaped. */
const leaf = (name: string, value: string | number): string =>
  `<${name}>${escapeText(String(value))}</${name}>`

/** The date range of an export, as local dates (YYYY-MM-DD) of SystemEntryDate. */
export interface SaftRange {
  from: string
  to: string
}

export interface SaftExporter {
  /** The SAF-T (PT) file of a cash box's queue, in Windows-1252 pieces; `onDocument` counts the documents written. */
  chunks(cashboxId: string, queueId: string, range: SaftRange, onDocument?: () => void): AsyncIterable<Buffer>
}

/** The AT reads SAF-T (PT) files in Windows-1252; /v2/sign refuses text it cannot encode. */
const XML_DECLARATION = '<?xml version="1.0" encoding="Windows-1252"?>'

interface Totals {
  count: number
  debit: bigint
  credit: bigint
  /** the payment receipts (RG), listed in their own section */
  paymentCount: number
  paid: bigint
  customers: Map<string, PtDocument['customer']>
  products: Map<string, { type: string; description: string }>
  taxes: Map<string, { region: string; code: keyof typeof TAX_NAMES; percentage: string }>
  /** the last queue row the first pass saw: documents signed during the export stay out of it */
  lastRow: number
  /** status dates of the documents cancelled when the first pass saw them (a void during the export waits) */
  cancelled: Map<number, string>
}

const customerId = (customer: PtDocument['customer']) =>
  customer.taxId === '999999990' ? ANONYMOUS_ID : customer.taxId

function header(config: PtCashboxConfig, range: SaftRange): string {
  const a = config.address
  return [
    '<Header>',
    leaf('AuditFileVersion', '1.04_01'),
    leaf('CompanyID', config.nif),
    leaf('TaxRegistrationNumber', config.nif),
    leaf('TaxAccountingBasis', 'F'),
    leaf('CompanyName', config.companyName),
    '<CompanyAddress>',
    leaf('AddressDetail', a.addressDetail),
    leaf('City', a.city),
    leaf('PostalCode', a.postalCode),
    leaf('Country', 'PT'),
    '</CompanyAddress>',
    leaf('FiscalYear', range.from.slice(0, 4)),
    leaf('StartDate', range.from),
    leaf('EndDate', range.to),
    leaf('CurrencyCode', 'EUR'),
    leaf('DateCreated', new Date().toISOString().slice(0, 10)),
    leaf('TaxEntity', 'Global'),
    leaf('ProductCompanyTaxID', config.nif),
    leaf('SoftwareCertificateNumber', config.certificateNumber),
    leaf('ProductID', PRODUCT_ID),
    leaf('ProductVersion', PRODUCT_VERSION),
    '</Header>',
  ].join('')
}

function masterFiles(t: Totals): string {
  const customers = [...t.customers.values()].map((c) =>
    [
      '<Customer>',
      leaf('CustomerID', customerId(c)),
      leaf('AccountID', UNKNOWN),
      leaf('CustomerTaxID', c.taxId),
      leaf('CompanyName', c.name),
      '<BillingAddress>',
      leaf('AddressDetail', UNKNOWN),
      leaf('City', UNKNOWN),
      leaf('PostalCode', UNKNOWN),
      leaf('Country', c.taxId === '999999990' ? UNKNOWN : c.country),
      '</BillingAddress>',
      leaf('SelfBillingIndicator', 0),
      '</Customer>',
    ].join(''),
  )
  const products = [...t.products].map(([code, p]) =>
    [
      '<Product>',
      leaf('ProductType', p.type),
      leaf('ProductCode', code),
      leaf('ProductDescription', p.description),
      leaf('ProductNumberCode', code),
      '</Product>',
    ].join(''),
  )
  const taxes = [...t.taxes.values()].map((tax) =>
    [
      '<TaxTableEntry>',
      leaf('TaxType', 'IVA'),
      leaf('TaxCountryRegion', tax.region),
      leaf('TaxCode', tax.code),
      leaf('Description', TAX_NAMES[tax.code]),
      leaf('TaxPercentage', tax.percentage),
      '</TaxTableEntry>',
    ].join(''),
  )
  return `<MasterFiles>${customers.join('')}${products.join('')}${taxes.length ? `<TaxTable>${taxes.join('')}</TaxTable>` : ''}</MasterFiles>`
}

function invoice(d: PtDocument, region: string): string {
  const credit = d.documentType !== 'NC'
  const lines = d.lines.map((line, i) =>
    [
      '<Line>',
      leaf('LineNumber', i + 1),
      leaf('ProductCode', line.productCode),
      leaf('ProductDescription', line.description),
      leaf('Quantity', line.quantity),
      leaf('UnitOfMeasure', 'UN'),
      leaf('UnitPrice', line.unitPrice),
      leaf('TaxPointDate', d.invoiceDate),
      ...d.references.map(
        (r) => `<References>${leaf('Reference', r)}${leaf('Reason', 'Devolução')}</References>`,
      ),
      leaf('Description', line.description),
      leaf(credit ? 'CreditAmount' : 'DebitAmount', line.net),
      '<Tax>',
      leaf('TaxType', 'IVA'),
      leaf('TaxCountryRegion', region),
      leaf('TaxCode', line.taxCode),
      leaf('TaxPercentage', line.taxPercentage),
      '</Tax>',
      ...(line.exemptionCode
        ? [
            leaf('TaxExemptionReason', EXEMPTION_REASONS[line.exemptionCode] ?? UNKNOWN),
            leaf('TaxExemptionCode', line.exemptionCode),
          ]
        : []),
      '</Line>',
    ].join(''),
  )
  const payments = d.payments.map(
    (p) =>
      `<Payment>${leaf('PaymentMechanism', p.mechanism)}${leaf('PaymentAmount', p.amount)}${leaf('PaymentDate', d.invoiceDate)}</Payment>`,
  )
  return [
    '<Invoice>',
    leaf('InvoiceNo', d.invoiceNo),
    leaf('ATCUD', d.atcud),
    '<DocumentStatus>',
    leaf('InvoiceStatus', d.status),
    leaf('InvoiceStatusDate', d.statusDate),
    leaf('SourceID', SOURCE_ID),
    leaf('SourceBilling', d.sourceBilling),
    '</DocumentStatus>',
    leaf('Hash', d.hash),
    leaf('HashControl', d.hashControl),
    leaf('Period', Number(d.invoiceDate.slice(5, 7))),
    leaf('InvoiceDate', d.invoiceDate),
    leaf('InvoiceType', d.documentType),
    '<SpecialRegimes>',
    leaf('SelfBillingIndicator', 0),
    leaf('CashVATSchemeIndicator', 0),
    leaf('ThirdPartiesBillingIndicator', 0),
    '</SpecialRegimes>',
    leaf('SourceID', SOURCE_ID),
    leaf('SystemEntryDate', d.systemEntryDate),
    leaf('CustomerID', customerId(d.customer)),
    ...lines,
    '<DocumentTotals>',
    leaf('TaxPayable', d.taxPayable),
    leaf('NetTotal', d.netTotal),
    leaf('GrossTotal', d.grossTotal),
    ...payments,
    '</DocumentTotals>',
    '</Invoice>',
  ].join('')
}

/** A payment receipt (RG): one Line per invoice it settles, the amount settled as CreditAmount. */
function payment(d: PtDocument): string {
  const lines = (d.settles ?? []).map((s, i) =>
    [
      '<Line>',
      leaf('LineNumber', i + 1),
      `<SourceDocumentID>${leaf('OriginatingON', s.invoiceNo)}${leaf('InvoiceDate', s.invoiceDate)}</SourceDocumentID>`,
      leaf('CreditAmount', s.amount),
      '</Line>',
    ].join(''),
  )
  return [
    '<Payment>',
    leaf('PaymentRefNo', d.invoiceNo),
    leaf('ATCUD', d.atcud),
    leaf('Period', Number(d.invoiceDate.slice(5, 7))),
    leaf('TransactionDate', d.invoiceDate),
    leaf('PaymentType', 'RG'),
    '<DocumentStatus>',
    leaf('PaymentStatus', d.status),
    leaf('PaymentStatusDate', d.statusDate),
    leaf('SourceID', SOURCE_ID),
    leaf('SourcePayment', d.sourceBilling),
    '</DocumentStatus>',
    ...d.payments.map(
      (p) =>
        `<PaymentMethod>${leaf('PaymentMechanism', p.mechanism)}${leaf('PaymentAmount', p.amount)}${leaf('PaymentDate', d.invoiceDate)}</PaymentMethod>`,
    ),
    leaf('SourceID', SOURCE_ID),
    leaf('SystemEntryDate', d.systemEntryDate),
    leaf('CustomerID', customerId(d.customer)),
    ...lines,
    '<DocumentTotals>',
    leaf('TaxPayable', d.taxPayable),
    leaf('NetTotal', d.netTotal),
    leaf('GrossTotal', d.grossTotal),
    '</DocumentTotals>',
    '</Payment>',
  ].join('')
}

/**
 * SAF-T (PT) 1.04_01 of the documents a cash box's receipts made (SalesInvoices, Payments), with the customers,
 * products and tax rates they name. Two passes over the documents: the totals and master files come first
 * in the file. Written in Windows-1252, as the AT expects.
 */
export function saftExporter(store: PtStore): SaftExporter {
  return {
    async *chunks(cashboxId, queueId, range, onDocument) {
      for await (const text of saftText(store, cashboxId, queueId, range, onDocument))
        yield encodeCp1252(text)
    },
  }
}

async function* saftText(
  store: PtStore,
  ...[cashboxId, queueId, range, onDocument]: Parameters<SaftExporter['chunks']>
): AsyncIterable<string> {
  const config = await store.config(cashboxId)
  if (!config) throw new Error(`cash box ${cashboxId} has no Portuguese configuration`)
  const span = { from: `${range.from}T00:00:00`, to: `${range.to}T23:59:59` }
  const t: Totals = {
    count: 0,
    debit: 0n,
    credit: 0n,
    paymentCount: 0,
    paid: 0n,
    customers: new Map(),
    products: new Map(),
    taxes: new Map(),
    lastRow: -1,
    cancelled: new Map(),
  }
  for await (const page of store.documents(queueId, span)) {
    for (const d of page) {
      if (d.documentType === 'RG') t.paymentCount++
      else t.count++
      t.lastRow = d.queueRow
      t.customers.set(customerId(d.customer), d.customer)
      for (const line of d.lines) {
        t.products.set(line.productCode, { type: line.productType, description: line.description })
        t.taxes.set(`${line.taxCode}/${line.taxPercentage}`, {
          region: config.region,
          code: line.taxCode,
          percentage: line.taxPercentage,
        })
      }
      // Cancelled documents are listed but count in no total.
      if (d.status === 'A') {
        t.cancelled.set(d.queueRow, d.statusDate)
        continue
      }
      const net = parseDecimal(d.netTotal, 'NetTotal')
      if (d.documentType === 'RG') t.paid += net
      else if (d.documentType === 'NC') t.debit += net
      else t.credit += net
    }
  }
  yield `${XML_DECLARATION}\n<AuditFile xmlns="${SAFT_NAMESPACE}">${header(config, range)}${masterFiles(t)}`
  yield `<SourceDocuments><SalesInvoices>${leaf('NumberOfEntries', t.count)}${leaf('TotalDebit', money(t.debit))}${leaf('TotalCredit', money(t.credit))}`
  // The next passes write what the first one counted: the same rows, with the statuses it saw.
  const asSeen = async function* (payments: boolean) {
    for await (const page of store.documents(queueId, span)) {
      const seen = page.filter((d) => d.queueRow <= t.lastRow)
      const listed = seen.filter((d) => (d.documentType === 'RG') === payments)
      yield listed.map((d) => {
        const cancelledAt = t.cancelled.get(d.queueRow)
        return {
          ...d,
          status: cancelledAt === undefined ? 'N' : 'A',
          statusDate: cancelledAt ?? d.systemEntryDate,
        } as PtDocument
      })
      if (seen.length < page.length) break
    }
  }
  for await (const documents of asSeen(false)) {
    yield documents.map((d) => invoice(d, config.region)).join('\n')
    for (let i = 0; i < documents.length; i++) onDocument?.()
  }
  yield '</SalesInvoices>'
  if (t.paymentCount > 0) {
    yield `<Payments>${leaf('NumberOfEntries', t.paymentCount)}${leaf('TotalDebit', money(0n))}${leaf('TotalCredit', money(t.paid))}`
    for await (const documents of asSeen(true)) {
      yield documents.map(payment).join('\n')
      for (let i = 0; i < documents.length; i++) onDocument?.()
    }
    yield '</Payments>'
  }
  yield '</SourceDocuments></AuditFile>\n'
}
