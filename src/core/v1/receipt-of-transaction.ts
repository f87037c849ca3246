import { v2Code, ReceiptCase, ReceiptFlag } from '../case-codes.ts'
import { invalid } from '../errors.ts'
import { formatDecimal, type Micros, parseDecimal } from '../money.ts'
import type { ReceiptRequestBody } from '../receipt.ts'
import type { FiscalInput } from './fiscalizer.ts'
import type { PAYMENT_METHODS } from './transaction-input.ts'

/**
 * A v1 transaction as the POS System API v2 receipt a country's market signs (docs/transactions-api-v1.md,
 * "Locations signed by their country's market"). A sale is a POS receipt (case 0x0001) whose charge items
 * are the request's items at their gross prices and whose one pay item is the request's payment method; a
 * cancellation is the void (flag 0x0004_0000) of the original's receipt: the same lines negated, with
 * cbPreviousReceiptReference naming the original transaction.
 */

/** ftPayItemCase low parts (POS System API v2): cash 0x01, credit card 0x05, other transfer 0x0B, unknown 0x00. */
const PAY_ITEM_CASES: Record<(typeof PAYMENT_METHODS)[number], bigint> = {
  cash: 0x01n,
  card: 0x05n,
  transfer: 0x0bn,
  other: 0x00n,
}

const MICROS = 1_000_000n
const CENT = 10_000n

interface SaleBody {
  items: Array<{ description: string; quantity: number; unit_price: number; tax_rate: number }>
  pretax_amount: number
  total_amount: number
  payment_method: (typeof PAYMENT_METHODS)[number]
  customer_context?: Record<string, unknown>
}

/** Half away from zero to whole cents, in micros. */
const toCents = (micros: Micros): Micros => {
  const sign = micros < 0n ? -1n : 1n
  return sign * (((micros * sign + CENT / 2n) / CENT) * CENT)
}

/**
 * The gross amount of each line. Items are read as tax-inclusive when their prices add up to the total and
 * as net prices when they add up to the pretax amount (the two conventions the v1 API's clients use); items
 * that add up to neither are refused, since the receipt would print other amounts than were paid. The
 * rounding of net lines may leave the lines a cent or so off the total the customer paid: the last line
 * takes that difference, so that the receipt's total is the transaction's.
 */
function grossLines(body: SaleBody): Micros[] {
  const lines = body.items.map((item, i) => {
    const quantity = parseDecimal(item.quantity, `items[${i}].quantity`)
    const price = parseDecimal(item.unit_price, `items[${i}].unit_price`)
    return { net: (quantity * price) / MICROS, rate: parseDecimal(item.tax_rate, `items[${i}].tax_rate`) }
  })
  const total = parseDecimal(body.total_amount, 'total_amount')
  const pretax = parseDecimal(body.pretax_amount, 'pretax_amount')
  const sum = lines.reduce((all, line) => all + line.net, 0n)
  const distance = (a: Micros, b: Micros) => (a > b ? a - b : b - a)
  // Each line may be half a cent off the exact product: a cent a line is the tolerance of every comparison.
  const tolerance = BigInt(lines.length) * CENT
  const pricesIncludeTax = distance(sum, total) <= distance(sum, pretax)
  if (distance(sum, pricesIncludeTax ? total : pretax) > tolerance)
    throw invalid(
      'items',
      'quantity x unit_price must add up to total_amount (prices with VAT) or to pretax_amount (net prices)',
    )
  const gross = lines.map((line) =>
    toCents(pricesIncludeTax ? line.net : line.net + (line.net * line.rate) / MICROS),
  )
  const difference = total - gross.reduce((all, amount) => all + amount, 0n)
  if (distance(difference, 0n) > tolerance)
    throw invalid('tax_amount', "the items' tax_rate on their net prices must add up to tax_amount")
  gross[gross.length - 1] = (gross.at(-1) ?? 0n) + difference
  return gross
}

function saleReceipt(input: FiscalInput, country: number): ReceiptRequestBody {
  const body = input.request as SaleBody
  const amounts = grossLines(body)
  const total = amounts.reduce((all, amount) => all + amount, 0n)
  const customer = body.customer_context
  return {
    cbReceiptReference: input.transactionId,
    cbReceiptMoment: input.timestamp,
    ftReceiptCase: hex(v2Code(country, BigInt(ReceiptCase.PosReceipt))),
    cbChargeItems: body.items.map((item, i) => ({
      Quantity: formatDecimal(parseDecimal(item.quantity, `items[${i}].quantity`)),
      Description: item.description,
      Amount: formatDecimal(amounts[i] ?? 0n),
      VATRate: formatDecimal(parseDecimal(item.tax_rate, `items[${i}].tax_rate`) * 100n),
    })),
    cbPayItems: [
      {
        Quantity: '1',
        Description: body.payment_method,
        Amount: formatDecimal(total),
        ftPayItemCase: hex(v2Code(country, PAY_ITEM_CASES[body.payment_method])),
      },
    ],
    ...(customer ? { cbCustomer: customerOf(customer) } : {}),
  }
}

/** customer_context in the POS System API's cbCustomer terms: a name, a tax id and an address, when given. */
function customerOf(context: Record<string, unknown>): Record<string, unknown> {
  const { name, postal_code: zip, address } = context
  const taxId = context.vat_id ?? context.tax_id ?? context.nif
  return {
    ...(typeof name === 'string' ? { CustomerName: name } : {}),
    ...(typeof taxId === 'string' ? { CustomerVATId: taxId } : {}),
    ...(typeof zip === 'string' ? { CustomerZip: zip } : {}),
    ...(typeof address === 'string' ? { CustomerStreet: address } : {}),
  }
}

const negated = (value: unknown, field: string) => formatDecimal(-parseDecimal(value, field))

function voidReceipt(input: FiscalInput, original: ReceiptRequestBody, country: number): ReceiptRequestBody {
  return {
    cbReceiptReference: input.transactionId,
    cbReceiptMoment: input.timestamp,
    ftReceiptCase: hex(v2Code(country, ReceiptFlag.Void | BigInt(ReceiptCase.PosReceipt))),
    cbPreviousReceiptReference: original.cbReceiptReference,
    cbChargeItems: original.cbChargeItems.map((item, i) => ({
      ...item,
      Amount: negated(item.Amount, `cbChargeItems[${i}].Amount`),
    })),
    cbPayItems: original.cbPayItems.map((item, i) => ({
      ...item,
      Amount: negated(item.Amount, `cbPayItems[${i}].Amount`),
    })),
    ...(original.cbCustomer ? { cbCustomer: original.cbCustomer } : {}),
  }
}

const hex = (code: bigint) => `0x${code.toString(16).toUpperCase().padStart(16, '0')}`

/**
 * The receipt of a sale, or of a cancellation given the receipt its original became (the original's
 * sealed record, see market-signed.ts).
 */
export function receiptOfTransaction(
  input: FiscalInput,
  country: number,
  original?: ReceiptRequestBody,
): ReceiptRequestBody {
  if (input.type === 'sale') return saleReceipt(input, country)
  if (!original) throw new Error(`the cancelled transaction ${input.original?.transactionId} has no receipt`)
  return voidReceipt(input, original, country)
}
