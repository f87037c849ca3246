import {
  type CaseCode,
  type CaseCodeForm,
  caseCodeFormOf,
  caseOf,
  countryOf,
  hasFlag,
  parseCaseCode,
  ReceiptCase,
  ReceiptFlag,
  receiptType,
  versionOf,
  withApiVersion,
} from './case-codes.ts'
import { invalid } from './errors.ts'
import { type Micros, parseDecimal } from './money.ts'

/** A receipt as the core sees it: amounts exact, case codes as bigint, the POS's own body kept aside. */
export interface ChargeItem {
  quantity: Micros
  description: string
  amount: Micros
  vatRate: Micros
  vatAmount: Micros | undefined
  caseCode: CaseCode
}

export interface PayItem {
  quantity: Micros
  description: string
  amount: Micros
  caseCode: CaseCode
  /** ISO 4217 code of a payment in another currency than the receipt's (Currency), as sent. */
  currency?: string
}

export interface Receipt {
  reference: string
  moment: Date
  terminalId: string | undefined
  caseCode: CaseCode
  chargeItems: ChargeItem[]
  payItems: PayItem[]
  previousReference: string | string[] | undefined
  total: Micros
  /** ftReceiptCaseData: market-specific options keyed by market (e.g. {"AT": {...}}), as sent. */
  caseData?: Record<string, unknown>
  /** cbCustomer as sent (an object such as {"CustomerName": ..., "CustomerVATId": ...}), for markets that invoice */
  customer?: Record<string, unknown>
}

/** The wire shape after structural (schema) validation: values are still unparsed JSON. */
export interface ReceiptRequestBody {
  cbReceiptReference: string
  cbReceiptMoment: string
  cbTerminalID?: string
  ftReceiptCase?: string | number
  cbChargeItems: Array<Record<string, unknown>>
  cbPayItems: Array<Record<string, unknown>>
  cbPreviousReceiptReference?: string | string[]
  [extra: string]: unknown
}

const ISO_MOMENT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:?\d{2})?$/

const HAS_ZONE = /(Z|[+-]\d{2}:?\d{2})$/

export function parseMoment(value: string, field: string): Date {
  // The reference defines cbReceiptMoment as UTC: a moment without a zone must not take the server's.
  const moment = new Date(HAS_ZONE.test(value) ? value : `${value}Z`)
  if (!ISO_MOMENT.test(value) || Number.isNaN(moment.getTime()) || !dayExists(value)) {
    throw invalid(field, 'must be an ISO 8601 date-time such as 2024-03-29T10:15:00.000Z')
  }
  return moment
}

/** Date parsing rolls 2024-02-30 over to March 1st: a moment must name a day its month has. */
function dayExists(value: string): boolean {
  const lastOfMonth = new Date(0)
  lastOfMonth.setUTCFullYear(Number(value.slice(0, 4)), Number(value.slice(5, 7)), 0)
  return Number(value.slice(8, 10)) <= lastOfMonth.getUTCDate()
}

/**
 * The reference and terminal id are stored as text columns: PostgreSQL text cannot hold U+0000, and a lone
 * surrogate would be stored as U+FFFD (one on PostgreSQL, three on SQLite) instead of what was sent.
 */
function storable(value: string, field: string): void {
  if (/[\u0000\uD800-\uDFFF]/u.test(value)) {
    throw invalid(field, 'must be well-formed Unicode text without U+0000')
  }
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid(field, 'must be a string')
  return value
}

function currencyCode(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^[A-Z]{3}$/.test(value))
    throw invalid(field, 'must be an ISO 4217 currency code such as EUR or CHF')
  return value
}

function optionalCase(value: unknown, field: string): CaseCode {
  return value === undefined || value === null ? 0n : parseCaseCode(value, field)
}

/**
 * Turns a structurally valid request into a Receipt, enforcing the rules a schema cannot express:
 * exact decimal amounts, valid case codes, a parsable moment, charge total equal to pay total, and a
 * previous receipt reference for voids and refunds.
 */
export function parseReceipt(body: ReceiptRequestBody): Receipt {
  const reference = text(body.cbReceiptReference, 'cbReceiptReference')
  if (reference.trim() === '') throw invalid('cbReceiptReference', 'must not be empty')
  storable(reference, 'cbReceiptReference')
  if (body.cbTerminalID !== undefined) storable(body.cbTerminalID, 'cbTerminalID')
  const caseCode = withApiVersion(optionalCase(body.ftReceiptCase, 'ftReceiptCase'))
  const chargeItems = body.cbChargeItems.map((item, i): ChargeItem => {
    const at = `cbChargeItems[${i}]`
    return {
      quantity: parseDecimal(item.Quantity, `${at}.Quantity`),
      description: text(item.Description, `${at}.Description`),
      amount: parseDecimal(item.Amount, `${at}.Amount`),
      vatRate: parseDecimal(item.VATRate, `${at}.VATRate`),
      vatAmount: item.VATAmount === undefined ? undefined : parseDecimal(item.VATAmount, `${at}.VATAmount`),
      caseCode: optionalCase(item.ftChargeItemCase, `${at}.ftChargeItemCase`),
    }
  })
  const payItems = body.cbPayItems.map((item, i): PayItem => {
    const at = `cbPayItems[${i}]`
    return {
      quantity: item.Quantity === undefined ? 1_000_000n : parseDecimal(item.Quantity, `${at}.Quantity`),
      description: text(item.Description, `${at}.Description`),
      amount: parseDecimal(item.Amount, `${at}.Amount`),
      caseCode: optionalCase(item.ftPayItemCase, `${at}.ftPayItemCase`),
      ...(item.Currency === undefined || item.Currency === null
        ? {}
        : { currency: currencyCode(item.Currency, `${at}.Currency`) }),
    }
  })
  chargeItems.forEach((item, i) => {
    if (item.vatRate < 0n || item.vatRate > 100_000_000n) {
      throw invalid(`cbChargeItems[${i}].VATRate`, 'must be a percentage between 0 and 100')
    }
  })
  const chargeTotal = chargeItems.reduce((sum, item) => sum + item.amount, 0n)
  const payTotal = payItems.reduce((sum, item) => sum + item.amount, 0n)
  if (chargeTotal !== payTotal) {
    throw invalid(
      'cbChargeItems',
      'Total amount mismatch with payment items: the Amounts of cbChargeItems and cbPayItems must have the same sum',
    )
  }
  const previousReference = body.cbPreviousReceiptReference
  if ((hasFlag(caseCode, ReceiptFlag.Void) || hasFlag(caseCode, ReceiptFlag.Refund)) && !previousReference) {
    throw invalid(
      'cbPreviousReceiptReference',
      'is required for a void or refund receipt (ftReceiptCase flag 0x40000 or 0x1000000)',
    )
  }
  const known = Object.values(ReceiptCase) as number[]
  const type = receiptType(caseCode)
  if (type > 4 || (type >= 2 && !known.includes(caseOf(caseCode)) && !isLogCase(caseCode))) {
    throw invalid(
      'ftReceiptCase',
      `case 0x${caseOf(caseCode).toString(16).padStart(4, '0')} is not a known receipt case`,
    )
  }
  if (countryOf(caseCode) !== 0 && versionOf(caseCode) !== 2) {
    throw invalid(
      'ftReceiptCase',
      'must carry version 2 (or 0, read as 2) in bits 44-47 (e.g. 0x4555200000000001 or 0x4555000000000001)',
    )
  }
  return {
    reference,
    moment: parseMoment(text(body.cbReceiptMoment, 'cbReceiptMoment'), 'cbReceiptMoment'),
    terminalId: body.cbTerminalID,
    caseCode,
    chargeItems,
    payItems,
    previousReference,
    total: chargeTotal,
    ...(isObject(body.ftReceiptCaseData) ? { caseData: body.ftReceiptCaseData } : {}),
    ...(isObject(body.cbCustomer) ? { customer: body.cbCustomer } : {}),
  }
}

/**
 * The form the response's case codes take: that of the request's first case code (ftReceiptCase, then
 * the items'), hex strings when it has none.
 */
export function caseCodeFormOfRequest(body: ReceiptRequestBody): CaseCodeForm {
  const sent = [
    body.ftReceiptCase,
    ...body.cbChargeItems.map((item) => item.ftChargeItemCase),
    ...body.cbPayItems.map((item) => item.ftPayItemCase),
  ]
  for (const value of sent) {
    const form = caseCodeFormOf(value)
    if (form) return form
  }
  return 'hex'
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Log receipts (0x3xxx) are open-ended in the reference: protocol, technical, audit, order, pay, copy... */
const isLogCase = (code: CaseCode): boolean => receiptType(code) === 3
