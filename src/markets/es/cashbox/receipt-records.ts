import { type CaseCode, caseOf, hasFlag, ReceiptFlag, receiptType } from '../../../core/case-codes.ts'
import { invalid } from '../../../core/errors.ts'
import type { ChargeItem, Receipt } from '../../../core/receipt.ts'
import type { SaleItem } from '../documents.ts'

/**
 * What a /v2/sign receipt of an ES cash box becomes (docs/country-es.md "ES receipts on /v2/sign"):
 * a simplified invoice (F2), a complete invoice (F1), a rectifying invoice of an earlier receipt (R1/R5),
 * a cancellation (anulación) of an earlier receipt, or no Spanish record at all.
 */
export type EsReceiptAction =
  | { kind: 'none' }
  | { kind: 'invoice'; lines: EsLines; customer?: EsCustomer }
  | { kind: 'refund'; previous: string; lines: EsLines; customer?: EsCustomer }
  | { kind: 'void'; previous: string }

export interface EsCustomer {
  nif: string
  name: string
  postalCode?: string
  address?: string
}

/** The sale as documents.ts takes it: tax-inclusive items and their exact totals. */
export interface EsLines {
  items: SaleItem[]
  pretaxCents: number
  taxCents: number
}

const MICROS_PER_CENT = 10_000n

/**
 * ftChargeItemCase VAT codes (low nibble) to Spanish IVA rates in basis points. discounted-2 is the 5 %
 * rate and super-reduced-2 the 0 % rate that Spain applied to some goods in 2023-2024; Spain has no
 * parking rate. `undefined`: the code is not accepted.
 */
export const VAT_CODE_RATES: Readonly<Record<number, number | undefined>> = {
  0x1: 1000, // discounted-1: reducido 10 %
  0x2: 500, // discounted-2: 5 %
  0x3: 2100, // normal: general 21 %
  0x4: 400, // super-reduced-1: superreducido 4 %
  0x5: 0, // super-reduced-2: 0 %
  0x7: 0, // zero
}
/** Rates a charge item with VAT code 0 (unknown) may name in VATRate. */
export const SPANISH_RATES = [2100, 1000, 500, 400, 0] as const

const NIF = /^[0-9A-Z][0-9]{7}[0-9A-Z]$/

const percent = (basisPoints: number) => `${basisPoints / 100}`

/** The rate of a charge item in basis points, checked against its VAT code. */
function rateOf(item: ChargeItem, at: string): number {
  const vatCode = Number(item.caseCode & 0xfn)
  const nature = Number((item.caseCode >> 8n) & 0xffn)
  if (nature !== 0)
    throw invalid(
      `${at}.ftChargeItemCase`,
      'exempt, not subject, margin-scheme and reverse-charge items (nature of VAT other than 00) are not supported on Spanish /v2/sign receipts yet',
    )
  if (vatCode === 0x6 || vatCode === 0x8)
    throw invalid(
      `${at}.ftChargeItemCase`,
      vatCode === 0x6
        ? 'Spain has no parking VAT rate (code 6)'
        : 'not taxable items (code 8) are not supported on Spanish /v2/sign receipts yet',
    )
  if (item.vatRate % MICROS_PER_CENT !== 0n)
    throw invalid(`${at}.VATRate`, 'must be a Spanish VAT rate: 21, 10, 5, 4 or 0')
  const given = Number(item.vatRate / MICROS_PER_CENT)
  const expected = VAT_CODE_RATES[vatCode]
  if (vatCode !== 0 && given !== expected)
    throw invalid(
      `${at}.VATRate`,
      `must be ${percent(expected ?? 0)} for VAT code ${vatCode} of ftChargeItemCase (see docs/country-es.md)`,
    )
  if (!(SPANISH_RATES as readonly number[]).includes(given))
    throw invalid(`${at}.VATRate`, 'must be a Spanish VAT rate: 21, 10, 5, 4 or 0')
  return given
}

/** Half up, away from zero. */
const divideRounded = (numerator: bigint, denominator: bigint): bigint =>
  numerator >= 0n
    ? (2n * numerator + denominator) / (2n * denominator)
    : -((-2n * numerator + denominator) / (2n * denominator))

/** Quantity text for the invoice line when the amount divides into whole-cent unit prices, else 1. */
function lineQuantity(item: ChargeItem, cents: bigint): { quantity: string; unitPriceCents: number } {
  const thousandths = (item.quantity < 0n ? -item.quantity : item.quantity) / 1000n
  if (thousandths > 0n && item.quantity % 1000n === 0n && (cents * 1000n) % thousandths === 0n) {
    const whole = thousandths / 1000n
    const fraction = thousandths % 1000n
    return {
      quantity: fraction === 0n ? String(whole) : `${whole}.${String(fraction).padStart(3, '0')}`,
      unitPriceCents: Number((cents * 1000n) / thousandths),
    }
  }
  return { quantity: '1', unitPriceCents: Number(cents) }
}

/** Charge items to invoice lines: gross amounts in whole cents, VAT from the Spanish rate. */
function linesOf(receipt: Receipt): EsLines {
  if (receipt.chargeItems.length === 0)
    throw invalid('cbChargeItems', 'a Spanish invoice needs at least one charge item')
  let pretaxCents = 0n
  let taxCents = 0n
  const items = receipt.chargeItems.map((item, i): SaleItem => {
    const at = `cbChargeItems[${i}]`
    if (item.amount % MICROS_PER_CENT !== 0n) throw invalid(`${at}.Amount`, 'must be whole euro cents')
    const gross = item.amount / MICROS_PER_CENT
    const rate = rateOf(item, at)
    const base = divideRounded(gross * 10_000n, 10_000n + BigInt(rate))
    const tax = gross - base
    if (item.vatAmount !== undefined) {
      const sent = item.vatAmount
      const diff = sent - tax * MICROS_PER_CENT
      if (sent % MICROS_PER_CENT !== 0n || diff > MICROS_PER_CENT || diff < -MICROS_PER_CENT)
        throw invalid(
          `${at}.VATAmount`,
          `must be the VAT in ${percent(rate)} % of Amount, in whole cents (${tax} cents, give or take one)`,
        )
      taxCents += sent / MICROS_PER_CENT
      pretaxCents += gross - sent / MICROS_PER_CENT
    } else {
      taxCents += tax
      pretaxCents += base
    }
    return {
      description: item.description || `item ${i + 1}`,
      ...lineQuantity(item, gross),
      taxRateBasisPoints: rate,
    }
  })
  return { items, pretaxCents: Number(pretaxCents), taxCents: Number(taxCents) }
}

/** cbCustomer with a Spanish NIF (CustomerVATId, an optional `ES` prefix), or undefined without one. */
function customerOf(receipt: Receipt): EsCustomer | undefined {
  const c = receipt.customer
  if (!c || c.CustomerVATId === undefined || c.CustomerVATId === null || c.CustomerVATId === '')
    return undefined
  if (typeof c.CustomerVATId !== 'string')
    throw invalid('cbCustomer.CustomerVATId', 'must be a Spanish NIF such as B12345674')
  const nif = c.CustomerVATId.trim().toUpperCase().replace(/^ES/, '')
  if (!NIF.test(nif))
    throw invalid(
      'cbCustomer.CustomerVATId',
      'must be a Spanish NIF of 9 characters (foreign VAT ids are not supported yet)',
    )
  if (typeof c.CustomerName !== 'string' || c.CustomerName.trim() === '' || c.CustomerName.length > 120)
    throw invalid(
      'cbCustomer.CustomerName',
      "is required with a NIF: the customer's name, 1 to 120 characters",
    )
  const street = typeof c.CustomerStreet === 'string' ? c.CustomerStreet : undefined
  const city = typeof c.CustomerCity === 'string' ? c.CustomerCity : undefined
  return {
    nif,
    name: c.CustomerName.trim(),
    ...(typeof c.CustomerZip === 'string' ? { postalCode: c.CustomerZip } : {}),
    ...(street || city ? { address: [street, city].filter(Boolean).join(', ') } : {}),
  }
}

function previousOf(receipt: Receipt): string {
  const previous = receipt.previousReference
  const list = Array.isArray(previous) ? previous : previous === undefined ? [] : [previous]
  if (list.length !== 1 || typeof list[0] !== 'string' || list[0] === '')
    throw invalid(
      'cbPreviousReceiptReference',
      'must name the one receipt this void or refund is about (its cbReceiptReference)',
    )
  return list[0]
}

/** Receipt cases that make an invoice: unknown (treated as POS), POS receipt, e-commerce; invoices 0x1000-0x1003. */
const INVOICING_RECEIPTS = new Set([0x0000, 0x0001, 0x0004])
const INVOICES = new Set([0x1000, 0x1001, 0x1002, 0x1003])
const NEEDS_CUSTOMER = new Set([0x1002, 0x1003])

export function makesRecord(code: CaseCode): boolean {
  const kind = caseOf(code)
  return INVOICING_RECEIPTS.has(kind) || INVOICES.has(kind)
}

/**
 * Pure: what the receipt becomes. Throws 400s naming the field; called by validate() and sign().
 * `customerInvoices`: a customer with a NIF makes a complete invoice (F1) of any receipt, as a transaction
 * of the API v1 with a customer_context NIF does.
 */
export function esReceiptAction(receipt: Receipt, customerInvoices = false): EsReceiptAction {
  const code = receipt.caseCode
  if (!makesRecord(code)) return { kind: 'none' }
  const isVoid = hasFlag(code, ReceiptFlag.Void)
  const isRefund = hasFlag(code, ReceiptFlag.Refund)
  if (isVoid && isRefund)
    throw invalid(
      'ftReceiptCase',
      'a Spanish receipt is either a void (0x40000) or a refund (0x1000000), not both',
    )
  if (isVoid) return { kind: 'void', previous: previousOf(receipt) }
  const lines = linesOf(receipt)
  const isInvoice = receiptType(code) === 1
  const customer = isInvoice || isRefund || customerInvoices ? customerOf(receipt) : undefined
  if (isRefund) {
    if (receipt.total >= 0n)
      throw invalid(
        'cbChargeItems',
        "a refund's amounts are negative: the rectifying invoice corrects the original by differences",
      )
    return { kind: 'refund', previous: previousOf(receipt), lines, ...(customer ? { customer } : {}) }
  }
  if (NEEDS_CUSTOMER.has(caseOf(code)) && !customer)
    throw invalid(
      'cbCustomer.CustomerVATId',
      'a B2B or B2G invoice (0x1002, 0x1003) needs the customer with a NIF',
    )
  return { kind: 'invoice', lines, ...(customer ? { customer } : {}) }
}
