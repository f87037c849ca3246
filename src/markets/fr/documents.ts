import { caseOf, hasFlag, ReceiptCase, ReceiptFlag } from '../../core/case-codes.ts'
import type { Receipt } from '../../core/receipt.ts'

/**
 * The French chains, one per document family (fr.md §2): each has its own counter and its own last hash,
 * and links only to itself.
 */
export const CHAINS = ['T', 'I', 'P', 'B', 'G', 'L', 'A', 'C', 'X'] as const
export type Chain = (typeof CHAINS)[number]

export const CHAIN_NAMES: Record<Chain, string> = {
  T: 'tickets',
  I: 'invoices',
  P: 'payment proofs',
  B: 'bills (provisional notes)',
  G: 'grand totals (zero, start, stop and closing receipts)',
  L: 'technical event journal (JET)',
  A: 'archives',
  C: 'duplicates',
  X: 'training',
}

/** POS System API v2 receipt cases (low 16 bits) that only France gives a meaning (fr.md §3). */
export const FrCase = {
  TableCheck: 0x0006,
  ProForma: 0x0007,
  DeliveryNote: 0x0005,
  Protocol: 0x3000,
  TechnicalEvent: 0x3001,
  AuditEvent: 0x3002,
  InternalUsage: 0x3003,
  Copy: 0x3010,
  Archive: 0x3011,
} as const

/** ftReceiptCase flag 0x80_0000 of the POS System API v2: a sale in another country (a bill in France). */
export const SALE_IN_FOREIGN_COUNTRY = 0x0080_0000n

/** The closing a G receipt is, if any: it resets the totals of its period. */
export type Closing = 'shift' | 'day' | 'month' | 'year'

const CLOSINGS: Partial<Record<number, Closing>> = {
  [ReceiptCase.ShiftClosing]: 'shift',
  [ReceiptCase.DailyClosing]: 'day',
  [ReceiptCase.MonthlyClosing]: 'month',
  [ReceiptCase.YearlyClosing]: 'year',
}

export const closingOf = (receipt: Receipt): Closing | undefined => CLOSINGS[caseOf(receipt.caseCode)]

/** The technical event a receipt is, besides its own chain entry, in the JET (chain L). */
export function eventOf(receipt: Receipt): string | undefined {
  const low = caseOf(receipt.caseCode)
  if (low === ReceiptCase.StartReceipt) return 'start'
  if (low === ReceiptCase.StopReceipt) return 'stop'
  if (low === FrCase.Archive) return 'archive'
  const closing = CLOSINGS[low]
  if (closing) return `closing-${closing}`
  if (hasFlag(receipt.caseCode, ReceiptFlag.LateSigning)) return 'failure'
  return undefined
}

/**
 * fiscalbox's v2 mapping for France (fiskaltrust's public FR queue knows only v1 codes; docs/country-fr.md
 * gives the reasoning): the chain a receipt goes to, or undefined for documents that are neither payment
 * records nor technical events (delivery notes, internal usage, free protocol), which are not signed.
 */
export function chainOf(receipt: Receipt): Chain | undefined {
  const low = caseOf(receipt.caseCode)
  const type = low >> 12
  if (low === FrCase.DeliveryNote || low === FrCase.InternalUsage || low === FrCase.Protocol) return undefined
  if (hasFlag(receipt.caseCode, ReceiptFlag.Training)) return 'X'
  if (type === 0) {
    if (low === ReceiptCase.PaymentTransfer) return 'P'
    if (low === FrCase.TableCheck || low === FrCase.ProForma) return 'B'
    return hasFlag(receipt.caseCode, SALE_IN_FOREIGN_COUNTRY) ? 'B' : 'T'
  }
  if (type === 1) return 'I'
  if (type === 2 || type === 4) return 'G'
  if (low === FrCase.Copy) return 'C'
  if (low === FrCase.Archive) return 'A'
  return 'L'
}

/** Documents whose amounts are payments received: they raise the grand totals (fr.md §4, the clean design). */
export const raisesTotals = (chain: Chain): boolean => chain === 'T' || chain === 'I'
