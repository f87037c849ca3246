import { invalid } from '../../core/errors.ts'
import type { Micros } from '../../core/money.ts'
import type { ChargeItem, PayItem, Receipt } from '../../core/receipt.ts'
import {
  type DocumentReference,
  type FiscalReceiptStep,
  type FpmateCommand,
  referenceMessage,
} from './fpmate/index.ts'
import { rateKey } from './configuration.ts'
import type { ItDocument } from './ports.ts'
import type { ItReceiptKind } from './receipt-kind.ts'
import { customerOf, lotteryCodeOf } from './customer.ts'

type DocumentKind = Extract<ItReceiptKind, { kind: 'document' }>

const MICROS_PER_CENT = 10_000n
const MICROS_PER_THOUSANDTH = 1_000n
/** ftPayItemCase flag: the line is change handed back; the device works change out itself. */
const CHANGE = 0x20_0000n

/** Epson `paymentType`/`index` of each ftPayItemCase (low byte): cash, cheque, electronic, not paid... */
const PAYMENT_TYPES: Readonly<Record<number, { paymentType: number; index: number }>> = {
  0x00: { paymentType: 0, index: 0 },
  0x01: { paymentType: 0, index: 0 },
  0x02: { paymentType: 0, index: 0 },
  0x0c: { paymentType: 0, index: 0 },
  0x03: { paymentType: 1, index: 0 },
  0x04: { paymentType: 2, index: 1 },
  0x05: { paymentType: 2, index: 1 },
  0x0a: { paymentType: 2, index: 1 },
  0x0b: { paymentType: 2, index: 1 },
  0x06: { paymentType: 6, index: 1 },
  0x07: { paymentType: 5, index: 0 },
  0x08: { paymentType: 5, index: 0 },
  0x0d: { paymentType: 5, index: 0 },
  0x0e: { paymentType: 5, index: 0 },
  0x09: { paymentType: 5, index: 3 },
  0x0f: { paymentType: 3, index: 1 },
}

const cents = (micros: Micros): number => Number((micros < 0n ? -micros : micros) / MICROS_PER_CENT)
const thousandths = (micros: Micros): number =>
  Number((micros < 0n ? -micros : micros) / MICROS_PER_THOUSANDTH)

function paymentTypeOf(item: PayItem, field: string) {
  const type = PAYMENT_TYPES[Number(item.caseCode & 0xffn)]
  if (!type)
    throw invalid(
      field,
      `pay item case 0x${(item.caseCode & 0xffn).toString(16).padStart(2, '0')} has no payment type on the RT device (use 0x00-0x0F)`,
    )
  return type
}

/**
 * The device's checks of a document that need no configuration: amounts in cents, quantities in
 * thousandths, a payment type for every pay item, the customer's tax id and the lottery code.
 */
export function checkDocument(receipt: Receipt, kind: DocumentKind): void {
  receipt.chargeItems.forEach((item, i) => {
    if (item.amount % MICROS_PER_CENT !== 0n)
      throw invalid(
        `cbChargeItems[${i}].Amount`,
        'must have at most 2 decimals: the RT device counts in cents',
      )
    if (item.quantity % MICROS_PER_THOUSANDTH !== 0n)
      throw invalid(`cbChargeItems[${i}].Quantity`, 'must have at most 3 decimals on the RT device')
  })
  receipt.payItems.forEach((item, i) => {
    const field = `cbPayItems[${i}]`
    if (item.amount % MICROS_PER_CENT !== 0n)
      throw invalid(`${field}.Amount`, 'must have at most 2 decimals: the RT device counts in cents')
    paymentTypeOf(item, `${field}.ftPayItemCase`)
    if (kind.document === 'sale' && item.amount < 0n && (item.caseCode & CHANGE) === 0n)
      throw invalid(
        `${field}.Amount`,
        'a sale takes no negative payment except change (flag 0x200000): a return names its original in cbPreviousReceiptReference',
      )
  })
  if (kind.document === 'sale' && receipt.total < 0n)
    throw invalid(
      'cbChargeItems',
      'the total of a sale must not be negative: a return (refund) names its original in cbPreviousReceiptReference',
    )
  customerOf(receipt)
  lotteryCodeOf(receipt)
}

function departmentOf(item: ChargeItem, i: number, departments: Record<string, number>): number {
  const department = departments[rateKey(item.vatRate)]
  if (department === undefined)
    throw invalid(
      `cbChargeItems[${i}].VATRate`,
      `${rateKey(item.vatRate)} % has no department on this cash box's RT device (mapped: ${Object.keys(departments).join(', ')}; see PUT /it/v1/cashbox departments)`,
    )
  return department
}

/** Quantity and unit price as the device multiplies them; a price that is no whole cent becomes 1 x amount. */
function line(item: ChargeItem) {
  const quantity = thousandths(item.quantity)
  const amount = cents(item.amount)
  if (quantity > 0 && (amount * 1000) % quantity === 0)
    return { quantity, unitPrice: (amount * 1000) / quantity }
  return { quantity: 1000, unitPrice: amount }
}

function itemSteps(
  receipt: Receipt,
  kind: DocumentKind,
  departments: Record<string, number>,
): FiscalReceiptStep[] {
  return receipt.chargeItems.map((item, i): FiscalReceiptStep => {
    const department = departmentOf(item, i, departments)
    const description = item.description
    if (kind.document === 'refund')
      return { kind: 'printRecRefund', operator: '1', description, ...line(item), department }
    if (kind.document === 'void')
      return { kind: 'printRecVoid', operator: '1', description, ...line(item), department }
    // A negative line of a sale is a discount on the line before it.
    if (item.amount < 0n)
      return {
        kind: 'printRecItemAdjustment',
        operator: '1',
        adjustmentType: 3,
        description,
        amount: cents(item.amount),
        department,
      }
    return { kind: 'printRecItem', operator: '1', description, ...line(item), department }
  })
}

function totalSteps(receipt: Receipt, kind: DocumentKind): FiscalReceiptStep[] {
  const paid = receipt.payItems
    .map((item, i) => ({ item, i }))
    // Change handed back in a sale: the device prints it from the payments that exceed the total.
    .filter(({ item }) => kind.document !== 'sale' || item.amount >= 0n)
    .map(
      ({ item, i }): FiscalReceiptStep => ({
        kind: 'printRecTotal',
        operator: '1',
        description: item.description,
        payment: cents(item.amount),
        ...paymentTypeOf(item, `cbPayItems[${i}].ftPayItemCase`),
      }),
    )
  // A document without payments still needs its total to be closed.
  return paid.length > 0
    ? paid
    : [
        {
          kind: 'printRecTotal',
          operator: '1',
          description: 'CONTANTI',
          payment: 0,
          paymentType: 0,
          index: 0,
        },
      ]
}

/** The original of a return or void as its reference line names it. */
export const referenceOf = (kind: 'refund' | 'void', original: ItDocument): DocumentReference => ({
  kind: kind === 'refund' ? 'REFUND' : 'VOID',
  zNumber: original.zNumber,
  documentNumber: original.docNumber,
  date: original.deviceMoment.slice(0, 10),
  serialNumber: original.serial,
})

/**
 * The printerFiscalReceipt of a document, in the order the device takes it: the reference line of a
 * return or void, the customer lines, the items, the lottery code, the payments, the customer's tax id.
 */
export function documentRequest(
  receipt: Receipt,
  kind: DocumentKind,
  departments: Record<string, number>,
  reference: DocumentReference | undefined,
): FpmateCommand {
  const customer = customerOf(receipt)
  const lottery = lotteryCodeOf(receipt)
  const steps: FiscalReceiptStep[] = [
    ...(reference ? [referenceMessage(reference)] : []),
    { kind: 'beginFiscalReceipt', operator: '1' },
    ...(kind.customerLines && customer
      ? customer.lines.map(
          (message): FiscalReceiptStep => ({
            kind: 'printRecMessage',
            operator: '1',
            messageType: 2,
            message,
          }),
        )
      : []),
    ...itemSteps(receipt, kind, departments),
    ...(lottery ? [{ kind: 'printRecLotteryID', operator: '1', code: lottery } as const] : []),
    ...totalSteps(receipt, kind),
    ...(customer?.taxId
      ? [{ kind: 'directIO', command: customer.taxId.command, data: `01${customer.taxId.value}` } as const]
      : []),
    { kind: 'endFiscalReceipt', operator: '1' },
  ]
  return { root: 'printerFiscalReceipt', steps }
}
