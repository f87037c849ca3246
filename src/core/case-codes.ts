import { invalid } from './errors.ts'

/**
 * The 64-bit case codes of the POS System API v2: `CCCC_vlll_gggg_xxxx` (country, version, local flags,
 * global flags, case). They travel as hex strings ("0x4445200000000001") or numbers; both are accepted,
 * and big numbers keep their exact digits (see api/json-body.ts), so the codes are held as bigint.
 */
export type CaseCode = bigint

const HEX = /^0x[0-9a-fA-F]{1,16}$/
const DEC = /^\d{1,20}$/
const MAX = (1n << 64n) - 1n

export function parseCaseCode(value: unknown, field: string): CaseCode {
  let code: bigint | undefined
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw invalid(field, 'must be a non-negative integer or a hex string such as "0x4555200000000001"')
    }
    code = BigInt(value)
  } else if (typeof value === 'string' && (HEX.test(value) || DEC.test(value))) {
    code = BigInt(value)
  }
  if (code === undefined || code > MAX) {
    throw invalid(field, 'must be a 64-bit case code: a hex string such as "0x4555200000000001" or a number')
  }
  return code
}

export function formatCaseCode(code: CaseCode): string {
  return `0x${code.toString(16).toUpperCase().padStart(16, '0')}`
}

/**
 * How a client writes case codes: hex strings, as the POS System API document shows them, or numbers (a
 * JSON number, or a string of decimal digits), as fiskaltrust's own devkit sends and reads them.
 * Responses answer in the form of the request.
 */
export type CaseCodeForm = 'hex' | 'number'

/** The form of one case code as sent, or undefined when the value is absent or not a case code at all. */
export function caseCodeFormOf(value: unknown): CaseCodeForm | undefined {
  if (typeof value === 'number' || (typeof value === 'string' && DEC.test(value))) return 'number'
  if (typeof value === 'string' && HEX.test(value)) return 'hex'
  return undefined
}

/** A case code as the client's form writes it: a hex string, or a bigint that exactJson writes as digits. */
export const caseCodeIn = (form: CaseCodeForm, code: CaseCode): string | bigint =>
  form === 'number' ? code : formatCaseCode(code)

export const countryOf = (code: CaseCode): number => Number(code >> 48n)
export const versionOf = (code: CaseCode): number => Number((code >> 44n) & 0xfn)
export const caseOf = (code: CaseCode): number => Number(code & 0xffffn)
export const hasFlag = (code: CaseCode, flag: bigint): boolean => (code & flag) === flag

/** "DE" -> 0x4445 and back: the country field is the two ASCII letters. */
export function countryCode(iso: string): number {
  if (!/^[A-Z]{2}$/.test(iso)) throw invalid('country', 'must be two upper-case letters such as DE or AT')
  return (iso.charCodeAt(0) << 8) | iso.charCodeAt(1)
}
export const countryIso = (code: number): string => String.fromCharCode(code >> 8, code & 0xff)

/**
 * A country's code without the version nibble (0x4154_0000_0000_0001, as the devkit's case builder writes
 * country << 48 + case) means the same as with version 2: the POS System API has only the v2 layout.
 */
export function withApiVersion(code: CaseCode): CaseCode {
  return countryOf(code) !== 0 && versionOf(code) === 0 ? code | (2n << 44n) : code
}

/** Stamps the country and API version 2 on a low part (flags and case). */
export const v2Code = (country: number, low: bigint): CaseCode => (BigInt(country) << 48n) | (2n << 44n) | low

export const ReceiptCase = {
  UnknownReceipt: 0x0000,
  PosReceipt: 0x0001,
  PaymentTransfer: 0x0002,
  ZeroReceipt: 0x2000,
  ShiftClosing: 0x2010,
  DailyClosing: 0x2011,
  MonthlyClosing: 0x2012,
  YearlyClosing: 0x2013,
  StartReceipt: 0x4001,
  StopReceipt: 0x4002,
} as const

export const ReceiptFlag = {
  LateSigning: 0x0001_0000n,
  Training: 0x0002_0000n,
  Void: 0x0004_0000n,
  HandWritten: 0x0008_0000n,
  Refund: 0x0100_0000n,
} as const

export const State = {
  Ok: 0x0n,
  OutOfOperation: 0x1n,
  SigningUnitFailed: 0x2n,
  LateSigning: 0x8n,
  MessagePending: 0x40n,
  Error: 0xeeee_eeeen,
} as const

export const SignatureFormat = { Text: 0x1n, QrCode: 0x3n } as const
export const SignatureTypeCategory = {
  Normal: 0x0000n,
  Info: 0x1000n,
  Alert: 0x2000n,
  Failure: 0x3000n,
} as const

/** Types of the receipt cases by their top nibble: 0 receipt, 1 invoice, 2 daily operation, 3 log, 4 lifecycle. */
export const receiptType = (code: CaseCode): number => (caseOf(code) & 0xf000) >> 12
