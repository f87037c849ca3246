import { ErrorCode, FiscalError } from '../errors.ts'
import { type Micros, parseDecimal } from '../money.ts'

/**
 * The create request of the Transactions API v1 and its rules, with the error texts of
 * docs/transactions-api-v1.md. Field-level messages follow the Go validator format (`Key: 'CreateRequest.LocationID' Error:Field validation for
 * 'LocationID' failed on the 'required' tag`), so clients written against FiscalAPI-style APIs keep matching.
 */
export const PAYMENT_METHODS = ['cash', 'card', 'transfer', 'other'] as const

export interface CreateTransactionInput {
  locationId: string
  timestamp: string
  totalMicros: Micros
  amountCents: number
  currency: string
}

/** `location_id` -> `LocationID`, `items[0].tax_rate` -> `Items[0].TaxRate`. */
export function goFieldPath(path: string): string {
  return path
    .split('.')
    .map((part) =>
      part.replace(/^([a-z_]+)/, (name) =>
        name
          .split('_')
          .map((word) => (word === 'id' ? 'ID' : word.charAt(0).toUpperCase() + word.slice(1)))
          .join(''),
      ),
    )
    .join('.')
}

export function fieldError(struct: string, path: string, tag: string): FiscalError {
  const go = goFieldPath(path)
  const last =
    go
      .split('.')
      .at(-1)
      ?.replace(/\[\d+\]$/, '') ?? go
  return new FiscalError(
    ErrorCode.ValidationError,
    `Key: '${struct}.${go}' Error:Field validation for '${last}' failed on the '${tag}' tag`,
    { field: path, reason: `failed on the '${tag}' rule` },
  )
}

export const seedError = (message: string, field: string): FiscalError =>
  new FiscalError(ErrorCode.ValidationError, message, { field, reason: message })

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** 0.01 in micro-units: the tolerance between pretax + tax and total (docs/transactions-api-v1.md). */
const TOLERANCE = 10_000n
const MICROS_PER_CENT = 10_000n

const STRUCT = 'CreateRequest'

function amount(body: Record<string, unknown>, field: string, tag: 'gte' | 'gt'): Micros {
  const value = body[field]
  if (value === undefined || value === null) throw fieldError(STRUCT, field, 'required')
  if (typeof value !== 'number') throw fieldError(STRUCT, field, 'numeric')
  const micros = parseDecimal(value, field)
  if (tag === 'gte' ? micros < 0n : micros <= 0n) throw fieldError(STRUCT, field, tag)
  return micros
}

/** Half away from zero, in integers: 8.005 -> 801 cents. */
export function microsToCents(micros: Micros): number {
  const sign = micros < 0n ? -1n : 1n
  const abs = micros * sign
  return Number(sign * ((abs + MICROS_PER_CENT / 2n) / MICROS_PER_CENT))
}

/**
 * Checks a create body (already shape-checked by the route schema; checked again here so the rule holds
 * for any caller) and returns what the service needs. Throws the documented message for each rule.
 */
export function parseCreateTransaction(body: unknown): CreateTransactionInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw seedError('request body must be a JSON object', 'body')
  }
  const b = body as Record<string, unknown>
  for (const field of [
    'location_id',
    'timestamp',
    'items',
    'pretax_amount',
    'tax_amount',
    'total_amount',
    'currency',
    'payment_method',
  ]) {
    if (b[field] === undefined || b[field] === null) throw fieldError(STRUCT, field, 'required')
  }
  if (typeof b.location_id !== 'string' || !UUID.test(b.location_id))
    throw fieldError(STRUCT, 'location_id', 'uuid')
  if (
    typeof b.timestamp !== 'string' ||
    !ISO_8601.test(b.timestamp) ||
    Number.isNaN(Date.parse(b.timestamp))
  ) {
    throw fieldError(STRUCT, 'timestamp', 'datetime')
  }
  if (!Array.isArray(b.items) || b.items.length === 0)
    throw seedError('items must be a non-empty array', 'items')
  b.items.forEach((item: unknown, i) => {
    const at = `items[${i}]`
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw seedError('items must be a non-empty array', at)
    const it = item as Record<string, unknown>
    if (typeof it.description !== 'string' || it.description.length === 0)
      throw fieldError(STRUCT, `${at}.description`, 'required')
    for (const [name, tag] of [
      ['quantity', 'gt'],
      ['unit_price', 'gte'],
      ['tax_rate', 'gte'],
    ] as const) {
      const value = it[name]
      if (value === undefined || value === null) throw fieldError(STRUCT, `${at}.${name}`, 'required')
      if (typeof value !== 'number') throw fieldError(STRUCT, `${at}.${name}`, 'numeric')
      const micros = parseDecimal(value, `${at}.${name}`)
      if (tag === 'gt' ? micros <= 0n : micros < 0n) throw fieldError(STRUCT, `${at}.${name}`, tag)
    }
    // A fraction: 0.21 is 21 %. Anything above 1 is a percentage sent by mistake.
    if ((it.tax_rate as number) > 1) throw fieldError(STRUCT, `${at}.tax_rate`, 'lte')
  })
  const pretax = amount(b, 'pretax_amount', 'gte')
  const tax = amount(b, 'tax_amount', 'gte')
  const total = amount(b, 'total_amount', 'gt')
  const difference = pretax + tax - total
  if (difference > TOLERANCE || difference < -TOLERANCE) {
    throw seedError('pretax_amount + tax_amount must equal total_amount', 'total_amount')
  }
  if (typeof b.currency !== 'string' || !/^[A-Z]{3}$/.test(b.currency))
    throw fieldError(STRUCT, 'currency', 'iso4217')
  if (
    typeof b.payment_method !== 'string' ||
    !(PAYMENT_METHODS as readonly string[]).includes(b.payment_method)
  ) {
    throw fieldError(STRUCT, 'payment_method', 'oneof')
  }
  if (
    b.customer_context !== undefined &&
    (typeof b.customer_context !== 'object' ||
      b.customer_context === null ||
      Array.isArray(b.customer_context))
  ) {
    throw fieldError(STRUCT, 'customer_context', 'object')
  }
  return {
    locationId: b.location_id.toLowerCase(),
    timestamp: b.timestamp,
    totalMicros: total,
    amountCents: microsToCents(total),
    currency: b.currency,
  }
}
