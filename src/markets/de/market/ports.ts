import type { UnitOfWork } from '../../../core/ports.ts'

/** A DE cash box's TSS and client, created by its start receipt. */
export interface DeCashboxRecord {
  queueId: string
  organizationId: string
  tssId: string
  clientId: string
  clientSerial: string
  /** Set by the operator (PUT /de/v1/tss/status): receipts are answered without the TSS until a zero receipt. */
  tssOutOfServiceSince: string | null
  createdAt: string
}

/** One DE receipt as DSFinV-K records it, in the cash point closing zNr. */
export interface DeReceiptRecord {
  queueId: string
  receiptNumber: number
  zNr: number
  /** 'receipt' (a Vorgang of transactions.csv) or 'closing' (the Kassenabschluss itself). */
  kind: 'receipt' | 'closing'
  moment: string
  data: string
}

export interface DeStore {
  /** Inside a receipt's unit of work. */
  cashboxIn(unit: UnitOfWork, queueId: string): Promise<DeCashboxRecord | undefined>
  insertCashboxIn(unit: UnitOfWork, cashbox: DeCashboxRecord): Promise<void>
  insertReceiptIn(unit: UnitOfWork, receipt: DeReceiptRecord): Promise<void>
  /** Outside: the operator's status switch and the exports. */
  cashbox(queueId: string): Promise<DeCashboxRecord | undefined>
  setOutOfService(queueId: string, since: string | null): Promise<boolean>
  /** Receipts of the closings from..to (inclusive), in receipt order. */
  receiptsOfClosings(queueId: string, fromZ: number, toZ: number): Promise<DeReceiptRecord[]>
  /** The closing records (kind 'closing') of the cash box, in order. */
  closings(queueId: string): Promise<DeReceiptRecord[]>
}
