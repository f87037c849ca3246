import { invalid } from '../../core/errors.ts'
import { localDateAndTime } from './format.ts'
import {
  cancelTicketBai,
  emptyTicketBaiChain,
  issueTicketBai,
  type TicketBaiRecord,
} from './ticketbai/issue.ts'
import type { TicketBaiChainState, TicketBaiSoftware } from './ticketbai/invoice.ts'
import type { Territory } from './ticketbai/territories.ts'
import type { SigningCredentials } from './ticketbai/xades.ts'
import { type AeatEnvironment, verifactuQrUrl } from './verifactu/qr.ts'
import {
  chainAlta,
  chainAnulacion,
  emptyChain,
  formatInvoiceNumber,
  type LineInput,
  type SoftwareSystem,
  type VerifactuChainState,
  type VerifactuRecord,
} from './verifactu/records.ts'

/**
 * From a sale (what the transactions API and the POS send: items, totals, an optional customer) to the
 * Spanish fiscal document of the location's system, with the invoice number, the chain, the QR code and
 * the fiscal id. Everything the next document needs is in `SpainState`, a JSON value to be saved in the
 * same commit as the document (under the location's or the queue's lock).
 */

export interface SpainIssuerConfig {
  system: 'verifactu' | 'ticketbai'
  territory?: Territory
  issuer: { nif: string; name: string }
  /** the QR code base of VERI*FACTU (test: prewww2.aeat.es) */
  environment: AeatEnvironment
  /** the invoice series of this location or cash box, e.g. `T2025-` */
  series: string
  /** the series of rectifying invoices (Spanish law wants them apart); absent: they share `series` */
  rectifyingSeries?: string
  timeZone?: string
  /** VERI*FACTU: the information system (fiscalbox) and its installation */
  verifactuSystem?: SoftwareSystem
  /** TicketBAI: the software licence and the device */
  ticketbaiSoftware?: TicketBaiSoftware
  deviceSerial?: string
  /** TicketBAI: the taxpayer's signing certificate and key */
  credentials?: SigningCredentials
}

export interface SpainState {
  /** the number the next invoice of the series gets (1 for a new series) */
  nextNumber: number
  /** the number the next rectifying invoice gets when they have a series of their own */
  nextRectifyingNumber?: number
  verifactu?: VerifactuChainState
  ticketbai?: TicketBaiChainState
}

export const newSpainState = (): SpainState => ({ nextNumber: 1 })

export interface SaleItem {
  description: string
  /** decimal text, at most 3 decimals, e.g. `2` or `0.250` */
  quantity: string
  unitPriceCents: number
  /** VAT rate in basis points: 21 % = 2100 */
  taxRateBasisPoints: number
}

export interface Sale {
  issuedAt: Date
  items: SaleItem[]
  /** the totals the customer was charged; the breakdown is made to match them to the cent */
  pretaxCents: number
  taxCents: number
  customer?: { nif: string; name: string; postalCode?: string; address?: string }
  /** the unit prices include VAT (retail prices); otherwise they are net */
  pricesIncludeTax?: boolean
  description?: string
  externalRef?: string
  /** a rectifying invoice (by differences: the items are the correction, negative for a refund) */
  rectifies?: Rectification
}

/** What a rectifying invoice corrects: R5 for a simplified invoice, R1 for a complete one. */
export interface Rectification {
  code: 'R1' | 'R5'
  original: SpainDocument
}

export interface SpainDocument {
  system: 'verifactu' | 'ticketbai'
  invoiceNumber: string
  /** what the transaction shows as fiscal_id: the TBAI identifier, or the VERI*FACTU invoice number */
  fiscalId: string
  /** the URL to print as a QR code ('' for a cancellation) */
  qrUrl: string
  record: { system: 'verifactu'; value: VerifactuRecord } | { system: 'ticketbai'; value: TicketBaiRecord }
}

export interface RateLine {
  rateBasisPoints: number
  baseCents: number
  taxCents: number
}

/**
 * The VAT breakdown per rate: bases from quantity x unit price (rounded half up to the cent per item),
 * taxes from the base and the rate, then adjusted on the largest line so that the sums equal the
 * declared totals, provided the difference is rounding (at most one cent per item). Anything larger
 * means the items and totals disagree, and the sale is refused.
 */
export function breakdownByRate(
  items: readonly SaleItem[],
  pretaxCents: number,
  taxCents: number,
  pricesIncludeTax = false,
): RateLine[] {
  if (items.length === 0) throw invalid('items', 'must be a non-empty array')
  const byRate = new Map<number, bigint>()
  items.forEach((item, i) => {
    const match = /^(\d{1,9})(?:\.(\d{1,3}))?$/.exec(item.quantity)
    if (!match) throw invalid(`items[${i}].quantity`, 'must be a positive decimal with at most 3 decimals')
    if (!Number.isSafeInteger(item.unitPriceCents))
      throw invalid(`items[${i}].unit_price`, 'must be whole cents')
    const rate = item.taxRateBasisPoints
    if (!Number.isInteger(rate) || rate < 0 || rate > 10_000)
      throw invalid(
        `items[${i}].tax_rate`,
        'must be a rate from 0 to 1 with at most 4 decimals (21 % = 0.21)',
      )
    const thousandths = BigInt(match[1] as string) * 1000n + BigInt((match[2] ?? '').padEnd(3, '0'))
    const product = thousandths * BigInt(item.unitPriceCents)
    // half up, away from zero, to whole cents
    const cents = product >= 0n ? (product + 500n) / 1000n : -((-product + 500n) / 1000n)
    byRate.set(rate, (byRate.get(rate) ?? 0n) + cents)
  })
  const lines = [...byRate.entries()]
    .sort(([a], [b]) => b - a)
    .map(([rate, amount]) => {
      // Tax-inclusive prices (retail): the base is the gross amount divided by (1 + rate), half up.
      const base = pricesIncludeTax
        ? (amount * 20_000n + 10_000n + BigInt(rate)) / (2n * (10_000n + BigInt(rate)))
        : amount
      if (pricesIncludeTax)
        return { rateBasisPoints: rate, baseCents: Number(base), taxCents: Number(amount - base) }
      const raw = base * BigInt(rate)
      const tax = raw >= 0n ? (raw + 5_000n) / 10_000n : -((-raw + 5_000n) / 10_000n)
      return { rateBasisPoints: rate, baseCents: Number(base), taxCents: Number(tax) }
    })
  const tolerance = items.length
  const baseGap = pretaxCents - lines.reduce((sum, l) => sum + l.baseCents, 0)
  const taxGap = taxCents - lines.reduce((sum, l) => sum + l.taxCents, 0)
  if (Math.abs(baseGap) > tolerance || Math.abs(taxGap) > tolerance)
    throw invalid(
      'items',
      `the items give a base of ${lines.reduce((s, l) => s + l.baseCents, 0)} and a tax of ${lines.reduce((s, l) => s + l.taxCents, 0)} cents, but pretax_amount is ${pretaxCents} and tax_amount ${taxCents}`,
    )
  const largest = lines.reduce((a, b) => (Math.abs(b.baseCents) > Math.abs(a.baseCents) ? b : a))
  largest.baseCents += baseGap
  // A 0 % line carries no tax: the tax difference goes to the largest taxed line.
  const taxed = lines.filter((l) => l.rateBasisPoints > 0)
  if (taxGap !== 0) {
    if (taxed.length === 0) throw invalid('tax_amount', 'must be 0 when every item has a 0 % rate')
    const target = taxed.reduce((a, b) => (Math.abs(b.baseCents) > Math.abs(a.baseCents) ? b : a))
    target.taxCents += taxGap
  }
  return lines
}

function need<T>(value: T | undefined, field: string, reason: string): T {
  if (value === undefined) throw invalid(field, reason)
  return value
}

/** Issues the next invoice of the location: a VERI*FACTU alta or a signed TicketBAI invoice. */
export function issueSale(
  config: SpainIssuerConfig,
  state: SpainState,
  sale: Sale,
): { document: SpainDocument; state: SpainState } {
  const lines = breakdownByRate(sale.items, sale.pretaxCents, sale.taxCents, sale.pricesIncludeTax)
  const { series, number, next } = numbering(config, state, sale.rectifies !== undefined)
  const invoiceNumber = formatInvoiceNumber(series, number)
  const issueDate = isoLocalDate(sale.issuedAt, config.timeZone)
  const customer = sale.customer?.nif ? sale.customer : undefined
  const rectifies = sale.rectifies
  const description =
    sale.description ?? (rectifies ? 'Factura rectificativa' : customer ? 'Factura' : 'Factura simplificada')
  if (config.system === 'verifactu') {
    const system = need(
      config.verifactuSystem,
      'country_config.verifactuSystem',
      'is required for VERI*FACTU',
    )
    const made = chainAlta(
      state.verifactu ?? emptyChain(),
      {
        issuer: config.issuer,
        seriesNumber: invoiceNumber,
        issueDate,
        invoiceType: rectifies ? rectifies.code : customer ? 'F1' : 'F2',
        description,
        lines: lines.map(
          (l): LineInput => ({
            rateBasisPoints: l.rateBasisPoints,
            baseCents: l.baseCents,
            taxCents: l.taxCents,
          }),
        ),
        ...(customer ? { recipients: [{ nif: customer.nif, name: customer.name }] } : {}),
        ...(rectifies ? { rectifies: verifactuRectified(rectifies.original) } : {}),
        generatedAt: sale.issuedAt,
        ...(config.timeZone ? { timeZone: config.timeZone } : {}),
        ...(sale.externalRef ? { externalRef: sale.externalRef } : {}),
      },
      system,
    )
    const record = made.record
    return {
      document: {
        system: 'verifactu',
        invoiceNumber,
        fiscalId: invoiceNumber,
        qrUrl: verifactuQrUrl(record, config.environment),
        record: { system: 'verifactu', value: record },
      },
      state: { ...next, verifactu: made.state },
    }
  }
  const territory = need(config.territory, 'country_config.territory', 'is required for TicketBAI')
  const software = need(
    config.ticketbaiSoftware,
    'country_config.ticketbaiSoftware',
    'is required for TicketBAI',
  )
  const credentials = need(config.credentials, 'country_config.certificate', 'is required to sign TicketBAI')
  const made = issueTicketBai(
    state.ticketbai ?? emptyTicketBaiChain(),
    {
      territory,
      issuer: config.issuer,
      ...(customer ? { recipient: customer } : {}),
      series,
      number: String(number),
      issuedAt: sale.issuedAt,
      ...(config.timeZone ? { timeZone: config.timeZone } : {}),
      simplified: !customer,
      description,
      ...(rectifies
        ? {
            rectification: {
              code: rectifies.code,
              type: 'I' as const,
              invoices: [ticketBaiRectified(rectifies.original)],
            },
          }
        : {}),
      lines: sale.items.map((item, i) => ({
        description: item.description,
        quantity: item.quantity,
        unitPriceCents: item.unitPriceCents,
        totalCents: lineTotal(item, i),
      })),
      vat: lines.map((l) => ({
        rateBasisPoints: l.rateBasisPoints,
        baseCents: l.baseCents,
        taxCents: l.taxCents,
      })),
      software,
      ...(config.deviceSerial ? { deviceSerial: config.deviceSerial } : {}),
    },
    credentials,
  )
  return {
    document: {
      system: 'ticketbai',
      invoiceNumber: `${series}${number}`,
      fiscalId: made.record.identifier,
      qrUrl: made.record.qrUrl,
      record: { system: 'ticketbai', value: made.record },
    },
    state: { ...next, ticketbai: made.state },
  }
}

/**
 * Cancels an issued invoice: a chained VERI*FACTU RegistroAnulacion, or a signed AnulaTicketBai
 * (TicketBAI cancellations are outside the chain). The invoice number sequence is not touched.
 */
export function issueCancellation(
  config: SpainIssuerConfig,
  state: SpainState,
  original: SpainDocument,
  at: Date,
): { document: SpainDocument; state: SpainState } {
  if (original.record.system === 'verifactu') {
    const invoice = original.record.value
    if (invoice.kind !== 'alta') throw invalid('transaction', 'only a sale can be cancelled')
    const system = need(
      config.verifactuSystem,
      'country_config.verifactuSystem',
      'is required for VERI*FACTU',
    )
    const [day, month, year] = invoice.issueDate.split('-')
    const made = chainAnulacion(
      state.verifactu ?? emptyChain(),
      {
        issuerNif: invoice.issuerNif,
        seriesNumber: invoice.seriesNumber,
        issueDate: `${year}-${month}-${day}`,
        generatedAt: at,
        ...(config.timeZone ? { timeZone: config.timeZone } : {}),
      },
      system,
    )
    return {
      document: {
        system: 'verifactu',
        invoiceNumber: invoice.seriesNumber,
        fiscalId: invoice.seriesNumber,
        qrUrl: '',
        record: { system: 'verifactu', value: made.record },
      },
      state: { ...state, verifactu: made.state },
    }
  }
  const software = need(
    config.ticketbaiSoftware,
    'country_config.ticketbaiSoftware',
    'is required for TicketBAI',
  )
  const credentials = need(config.credentials, 'country_config.certificate', 'is required to sign TicketBAI')
  const cancellation = cancelTicketBai(
    original.record.value,
    {
      issuerName: config.issuer.name,
      software,
      ...(config.deviceSerial ? { deviceSerial: config.deviceSerial } : {}),
      at,
    },
    credentials,
  )
  return {
    document: {
      system: 'ticketbai',
      invoiceNumber: original.invoiceNumber,
      fiscalId: cancellation.identifier,
      qrUrl: '',
      record: { system: 'ticketbai', value: cancellation },
    },
    state,
  }
}

/** The series and number of the next invoice, and the state after it: rectifying invoices may count apart. */
function numbering(
  config: SpainIssuerConfig,
  state: SpainState,
  rectifying: boolean,
): { series: string; number: number; next: SpainState } {
  if (rectifying && config.rectifyingSeries !== undefined) {
    const number = state.nextRectifyingNumber ?? 1
    return { series: config.rectifyingSeries, number, next: { ...state, nextRectifyingNumber: number + 1 } }
  }
  return {
    series: config.series,
    number: state.nextNumber,
    next: { ...state, nextNumber: state.nextNumber + 1 },
  }
}

function verifactuRectified(original: SpainDocument) {
  if (original.record.system !== 'verifactu' || original.record.value.kind !== 'alta')
    throw invalid('rectifies', 'a VERI*FACTU rectifying invoice corrects a VERI*FACTU invoice')
  const invoice = original.record.value
  const [day, month, year] = invoice.issueDate.split('-')
  return {
    type: 'I' as const,
    invoices: [
      {
        issuerNif: invoice.issuerNif,
        seriesNumber: invoice.seriesNumber,
        issueDate: `${year}-${month}-${day}`,
      },
    ],
  }
}

function ticketBaiRectified(original: SpainDocument) {
  if (original.record.system !== 'ticketbai' || original.record.value.kind !== 'alta')
    throw invalid('rectifies', 'a TicketBAI rectifying invoice corrects a TicketBAI invoice')
  const invoice = original.record.value
  return {
    ...(invoice.series !== undefined ? { series: invoice.series } : {}),
    number: invoice.number,
    issueDate: invoice.issueDate,
  }
}

function lineTotal(item: SaleItem, index: number): number {
  const [whole = '0', fraction = ''] = item.quantity.split('.')
  const product = (BigInt(whole) * 1000n + BigInt(fraction.padEnd(3, '0'))) * BigInt(item.unitPriceCents)
  const cents = product >= 0n ? (product + 500n) / 1000n : -((-product + 500n) / 1000n)
  if (cents > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(`items[${index}]`, 'is too large')
  return Number(cents)
}

/** The issue date (YYYY-MM-DD) in the issuer's time zone. */
function isoLocalDate(moment: Date, timeZone?: string): string {
  const { date } = localDateAndTime(moment, timeZone)
  const [day, month, year] = date.split('-')
  return `${year}-${month}-${day}`
}
