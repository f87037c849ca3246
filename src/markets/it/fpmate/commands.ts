/**
 * The fpmate commands as data. Each element is described once, by the attributes it carries and how
 * each is written; the step types, the serializer and the request parser are all derived from that
 * table, so the three cannot disagree. Amounts are integer cents, quantities integer thousandths.
 */

type FieldType = 'text' | 'int' | 'amount' | 'quantity'
interface FieldSpec {
  readonly type: FieldType
  readonly required: boolean
}

const required = <T extends FieldType>(type: T) => ({ type, required: true }) as const
const optional = <T extends FieldType>(type: T) => ({ type, required: false }) as const

// Every element takes an optional operator (the published clients send operator="1").
const operator = optional('text')
const saleLine = {
  operator,
  description: required('text'),
  quantity: required('quantity'),
  unitPrice: required('amount'),
  amount: optional('amount'),
  operationType: optional('int'),
  department: required('int'),
  justification: optional('int'),
} as const

export const ELEMENTS = {
  beginFiscalReceipt: { operator },
  printRecMessage: {
    operator,
    messageType: required('int'),
    index: optional('int'),
    font: optional('int'),
    message: required('text'),
  },
  printRecItem: {
    operator,
    description: required('text'),
    quantity: required('quantity'),
    unitPrice: required('amount'),
    department: required('int'),
    justification: optional('int'),
  },
  printRecItemAdjustment: {
    operator,
    adjustmentType: required('int'),
    description: required('text'),
    amount: required('amount'),
    department: optional('int'),
    justification: optional('int'),
  },
  printRecVoidItem: saleLine,
  printRecRefund: saleLine,
  printRecVoid: saleLine,
  printRecSubtotal: { operator, option: optional('int') },
  printRecSubtotalAdjustment: {
    operator,
    adjustmentType: required('int'),
    description: required('text'),
    amount: required('amount'),
    justification: optional('int'),
  },
  printRecLotteryID: { operator, code: required('text') },
  printRecTotal: {
    operator,
    description: optional('text'),
    payment: required('amount'),
    paymentType: required('int'),
    index: optional('int'),
    justification: optional('int'),
  },
  directIO: { command: required('text'), data: required('text') },
  displayText: { operator, data: required('text') },
  endFiscalReceipt: { operator },
  printZReport: { operator, timeout: optional('int') },
  printXReport: { operator },
  printXZReport: { operator, timeout: optional('int') },
  beginNonFiscal: { operator },
  printNormal: { operator, font: optional('int'), data: required('text') },
  endNonFiscal: { operator },
  queryPrinterStatus: { operator, statusType: optional('int') },
  resetPrinter: { operator },
} as const satisfies Record<string, Record<string, FieldSpec>>

export type ElementName = keyof typeof ELEMENTS

/** The elements each root command may hold, in the protocol's terms. */
export const ROOTS = {
  printerFiscalReceipt: [
    'printRecMessage',
    'beginFiscalReceipt',
    'printRecItem',
    'printRecItemAdjustment',
    'printRecVoidItem',
    'printRecRefund',
    'printRecVoid',
    'printRecSubtotal',
    'printRecSubtotalAdjustment',
    'printRecLotteryID',
    'printRecTotal',
    'directIO',
    'displayText',
    'endFiscalReceipt',
  ],
  printerFiscalReport: ['printZReport', 'printXReport', 'printXZReport', 'displayText'],
  printerNonFiscal: ['beginNonFiscal', 'printNormal', 'endNonFiscal'],
  printerCommand: ['queryPrinterStatus', 'resetPrinter', 'directIO', 'displayText'],
} as const satisfies Record<string, readonly ElementName[]>

export type RootName = keyof typeof ROOTS

type ValueOf<S extends FieldSpec> = S['type'] extends 'text' ? string : number
type Simplify<T> = { [K in keyof T]: T[K] } & {}
type Fields<E extends Record<string, FieldSpec>> = {
  [K in keyof E as E[K]['required'] extends true ? K : never]: ValueOf<E[K]>
} & { [K in keyof E as E[K]['required'] extends true ? never : K]?: ValueOf<E[K]> }

/** One element inside a root command, e.g. `{ kind: 'printRecItem', description, quantity, ... }`. */
export type Step<K extends ElementName = ElementName> = K extends ElementName
  ? Simplify<{ kind: K } & Fields<(typeof ELEMENTS)[K]>>
  : never

export type FiscalReceiptStep = Step<(typeof ROOTS)['printerFiscalReceipt'][number]>
export type FiscalReportStep = Step<(typeof ROOTS)['printerFiscalReport'][number]>
export type NonFiscalStep = Step<(typeof ROOTS)['printerNonFiscal'][number]>
export type PrinterCommandStep = Step<(typeof ROOTS)['printerCommand'][number]>

/** One request to the device: a root element and its children in order. */
export type FpmateCommand = {
  [R in RootName]: { root: R; steps: Step<(typeof ROOTS)[R][number]>[] }
}[RootName]

/** The field table of an element (for the serializer and the parser). */
export function fieldsOf(kind: ElementName): Readonly<Record<string, FieldSpec>> {
  return ELEMENTS[kind]
}

/** The elements a root command accepts. */
export function elementsOf(root: RootName): readonly ElementName[] {
  return ROOTS[root]
}

export const isRootName = (name: string): name is RootName => Object.hasOwn(ROOTS, name)
