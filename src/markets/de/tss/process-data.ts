import { invalid } from '../../../core/errors.ts'
import {
  formatCents as centsText,
  KASSENBELEG_V1,
  type KassenbelegPayment,
  kassenbelegV1,
  toCents,
} from '../dsfinvk/kassenbeleg.ts'

/** The transaction data schemas of the SIGN DE API: exactly one of standard_v1 (receipt/order/other) or raw. */
export interface ReceiptSchema {
  receipt_type: string
  amounts_per_vat_rate: Array<{ vat_rate: string; amount: string }>
  amounts_per_payment_type: Array<{ payment_type: string; amount: string; currency_code?: string }>
}
export interface OrderSchema {
  line_items: Array<{ quantity: string; text: string; price_per_unit: string }>
}
export type TxSchema =
  | { standard_v1: { receipt: ReceiptSchema } | { order: OrderSchema } | { other: Record<string, never> } }
  | { raw: { process_type: string; process_data: string } }

/** BON_TYP of DSFinV-K for each receipt_type. */
export const BON_TYP: Record<string, string> = {
  RECEIPT: 'Beleg',
  TRAINING: 'AVTraining',
  TRANSFER: 'AVTransfer',
  ORDER: 'AVBestellung',
  CANCELLATION: 'AVBelegabbruch',
  ABORT: 'AVBelegabbruch',
  BENEFIT_IN_KIND: 'AVSachbezug',
  INVOICE: 'AVRechnung',
  OTHER: 'AVSonstige',
  ANNULATION: 'AVBelegstorno',
}

/** The five gross amounts of Kassenbeleg-V1 in their fixed order: 19 %, 7 %, 10.7 %, 5.5 %, 0 %. */
export const VAT_ORDER = ['NORMAL', 'REDUCED_1', 'SPECIAL_RATE_1', 'SPECIAL_RATE_2', 'NULL'] as const

const AMOUNT = /^(-?)(\d+)\.(\d{2,5})$/
const SCALE = 100_000n

/** An amount of the API (2 to 5 decimals) as an exact count of 1/100000 units. */
export function parseAmount(text: string, field: string): bigint {
  const match = AMOUNT.exec(text)
  if (!match) throw invalid(field, 'must be a decimal with 2 to 5 decimals, e.g. "12.50"')
  const [, sign, whole = '0', fraction = ''] = match
  const value = BigInt(whole) * SCALE + BigInt(fraction.padEnd(5, '0'))
  return sign ? -value : value
}

/** Exactly two decimals, rounded half away from zero (DSFinV-K prints cents). */
export const formatCents = (value: bigint): string => centsText(toCents(value, 5))

function receiptData(receipt: ReceiptSchema): string {
  const bonTyp = BON_TYP[receipt.receipt_type]
  if (!bonTyp)
    throw invalid(
      'schema.standard_v1.receipt.receipt_type',
      `must be one of ${Object.keys(BON_TYP).join(', ')}`,
    )
  const gross = new Map<string, bigint>(VAT_ORDER.map((rate) => [rate, 0n]))
  receipt.amounts_per_vat_rate.forEach((entry, i) => {
    const field = `schema.standard_v1.receipt.amounts_per_vat_rate[${i}]`
    if (!gross.has(entry.vat_rate))
      throw invalid(`${field}.vat_rate`, `must be one of ${VAT_ORDER.join(', ')}`)
    gross.set(
      entry.vat_rate,
      (gross.get(entry.vat_rate) ?? 0n) + parseAmount(entry.amount, `${field}.amount`),
    )
  })
  const payments = receipt.amounts_per_payment_type.map((entry, i): KassenbelegPayment => {
    const field = `schema.standard_v1.receipt.amounts_per_payment_type[${i}]`
    const kind =
      entry.payment_type === 'CASH' ? 'Bar' : entry.payment_type === 'NON_CASH' ? 'Unbar' : undefined
    if (!kind) throw invalid(`${field}.payment_type`, 'must be CASH or NON_CASH')
    const currency = entry.currency_code ?? 'EUR'
    if (!/^[A-Z]{3}$/.test(currency)) throw invalid(`${field}.currency_code`, 'must be an ISO 4217 code')
    return { kind, cents: toCents(parseAmount(entry.amount, `${field}.amount`), 5), currency }
  })
  return kassenbelegV1(
    bonTyp,
    VAT_ORDER.map((rate) => toCents(gross.get(rate) ?? 0n, 5)),
    payments,
  )
}

function orderData(order: OrderSchema): string {
  return order.line_items
    .map((item, i) => {
      const field = `schema.standard_v1.order.line_items[${i}]`
      if (item.text.length > 255) throw invalid(`${field}.text`, 'must be at most 255 characters')
      if (!/^-?\d+(\.\d+)?$/.test(item.quantity))
        throw invalid(`${field}.quantity`, 'must be a decimal number')
      const price = formatCents(parseAmount(item.price_per_unit, `${field}.price_per_unit`))
      return `${item.quantity};"${item.text.replaceAll('"', '""')}";${price}`
    })
    .join('\r')
}

export interface ProcessData {
  kind: 'standard_v1' | 'raw'
  processType: string
  processData: Buffer
}

/** processType and processData of a TR-03151 transaction log from a transaction's schema (DSFinV-K formats). */
export function processDataOf(schema: TxSchema): ProcessData {
  if ('raw' in schema) {
    // The receipt QR code separates its fields by ';': only processData may hold one (see receipt-qr.ts).
    if (schema.raw.process_type.includes(';'))
      throw invalid('schema.raw.process_type', "must not contain ';'")
    const data = Buffer.from(schema.raw.process_data, 'base64')
    if (data.toString('base64') !== schema.raw.process_data.replace(/\s/g, ''))
      throw invalid('schema.raw.process_data', 'must be base64')
    return { kind: 'raw', processType: schema.raw.process_type, processData: data }
  }
  const standard = schema.standard_v1
  if ('receipt' in standard)
    return {
      kind: 'standard_v1',
      processType: KASSENBELEG_V1,
      processData: Buffer.from(receiptData(standard.receipt)),
    }
  if ('order' in standard)
    return {
      kind: 'standard_v1',
      processType: 'Bestellung-V1',
      processData: Buffer.from(orderData(standard.order)),
    }
  return { kind: 'standard_v1', processType: 'SonstigerVorgang', processData: Buffer.alloc(0) }
}

/** What a cancelled transaction is finished with: a receipt aborted with nothing paid. */
export const CANCELLED_PROCESS: ProcessData = {
  kind: 'standard_v1',
  processType: 'Kassenbeleg-V1',
  processData: Buffer.from('AVBelegabbruch^0.00_0.00_0.00_0.00_0.00^'),
}
