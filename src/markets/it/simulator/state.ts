import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { DocumentReference, LastDocument } from '../fpmate/index.ts'

/** A sale, return or void line as the device printed it (amount in cents, after quantity x price). */
export interface JournalLine {
  description: string
  quantity: number
  unitPrice: number
  amount: number
  department: number
}

export interface JournalPayment {
  paymentType: number
  index: number
  amount: number
  description?: string
}

/** One documento commerciale in the electronic journal. */
export interface JournalDocument {
  type: 'SALE' | 'REFUND' | 'VOID'
  zNumber: number
  documentNumber: number
  /** Device clock, local time, yyyy-MM-ddTHH:mm:ss. */
  moment: string
  amount: number
  vat: number
  lines: JournalLine[]
  /** Item and subtotal adjustments, signed: discounts negative. */
  adjustments: { description: string; amount: number }[]
  payments: JournalPayment[]
  reference?: DocumentReference
  lotteryCode?: string
  customerId?: string
  /** Set on a sale when a later document voided or returned it (refused a second time: 39/40). */
  voidedBy?: string
  refundedBy?: string
}

/** A daily closure in the electronic journal. */
export interface JournalClosure {
  type: 'ZREPORT'
  zNumber: number
  moment: string
  dailyAmount: number
  documents: number
}

export type JournalEntry = JournalDocument | JournalClosure

/** Everything the device keeps across a restart. */
export interface DeviceState {
  serialNumber: string
  /** The Z of the day still open: the number its closure will have (1 after fiscalisation). */
  zNumber: number
  /** The last document number of the open day (0 after a Z). */
  documentNumber: number
  nonFiscalNumber: number
  dayOpen: boolean
  /** Takings of the open day in cents: sales less returns and voids. */
  dailyAmount: number
  /** Epoch ms of the last closure: the device refuses documents dated before it (error 9). */
  lastClosureAt: number | null
  lastDocument: LastDocument | null
  journal: JournalEntry[]
}

export function newDeviceState(serialNumber: string): DeviceState {
  return {
    serialNumber,
    zNumber: 1,
    documentNumber: 0,
    nonFiscalNumber: 0,
    dayOpen: false,
    dailyAmount: 0,
    lastClosureAt: null,
    lastDocument: null,
    journal: [],
  }
}

/** The state kept in `file`, or a new device's when there is none yet. */
export function loadDeviceState(file: string | undefined, serialNumber: string | undefined): DeviceState {
  if (!file || !existsSync(file)) return newDeviceState(serialNumber ?? DEFAULT_SERIAL)
  let state: DeviceState
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as DeviceState
  } catch (error) {
    throw new Error(
      `--state-file ${file}: not a simulator state (${(error as Error).message}); move it away or name another file`,
    )
  }
  if (typeof state.serialNumber !== 'string' || !Array.isArray(state.journal))
    throw new Error(
      `--state-file ${file}: not a simulator state (no serialNumber or journal); name another file`,
    )
  if (serialNumber && serialNumber !== state.serialNumber)
    throw new Error(
      `--state-file ${file} belongs to device ${state.serialNumber}, not ${serialNumber}: drop --serial or name another file`,
    )
  return state
}

/** Writes the whole state to a new file and renames it over the old one, so a crash leaves one or the other. */
export function saveDeviceState(file: string, state: DeviceState): void {
  const next = `${file}.next`
  writeFileSync(next, JSON.stringify(state))
  renameSync(next, file)
}

export const DEFAULT_SERIAL = '99IEZ000001'
