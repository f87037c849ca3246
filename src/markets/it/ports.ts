import type { UnitOfWork } from '../../core/ports.ts'

/** The RT device kinds fiscalbox drives; an Epson RT printer (or server) over the fpmate protocol today. */
export const IT_DEVICES = ['epson-rt'] as const
export type ItDevice = (typeof IT_DEVICES)[number]

/** The Italian configuration of one IT cash box (PUT /it/v1/cashbox, `fiscalbox it configure`). */
export interface ItCashboxConfig {
  device: ItDevice
  /** base URL of the device; fpmate requests go to `{url}/cgi-bin/fpmate.cgi` */
  url: string
  /** how long one request to the device may take before its last document is read back */
  timeoutMs: number
  /**
   * VAT rate (decimal text as formatDecimal writes it, e.g. "22.00") -> the device's department: the
   * department-to-rate table is programmed in each device, so the mapping is the operator's.
   */
  departments: Record<string, number>
  /**
   * Failed mode: while the device cannot be reached, documents are held by fiscalbox (ftState 0x2) and
   * sent in their order by the next zero receipt that finds the device back. Off: the receipt fails.
   */
  failedMode: boolean
}

/** What a receipt made on the device. */
export type ItDocumentKind = 'sale' | 'refund' | 'void'

/**
 * One documento commerciale the device printed for a receipt, with the numbers it gave it: a refund or
 * void names its original by them, and recovery compares the device's last document with the newest one.
 */
export interface ItDocument {
  queueId: string
  queueRow: number
  receiptReference: string
  terminalId: string | null
  kind: ItDocumentKind
  serial: string
  zNumber: number
  docNumber: number
  /** the device's clock, local time, `yyyy-MM-dd HH:mm:ss` */
  deviceMoment: string
  /** the document's total as the device printed it (decimal text, absolute value) */
  total: string
}

/**
 * Where a held receipt stands: `held` (never reached the device), `sent` (sent at least once with no answer:
 * the device may have printed it, so its last document is read before it is sent again), `printed` (its
 * document is in it_documents under the same queue row) or `refused` (the device refused it on the resend).
 */
export type HeldState = 'held' | 'sent' | 'printed' | 'refused'

/** A receipt answered in failed mode: what the device is to print, in the cash box's order (queueRow). */
export interface HeldReceipt {
  queueId: string
  queueRow: number
  receiptNumber: number
  receiptReference: string
  terminalId: string | null
  /** the DeviceJob (JSON, with its XML) as it was built when the receipt was held */
  job: string
  state: HeldState
  /** the device's refusal, for `refused` */
  error: string | null
}

/** What the Italian market needs from storage; store.ts implements it with Kysely. */
export interface ItStore {
  config(queueId: string): Promise<ItCashboxConfig | undefined>
  /** Sets the configuration unless the cash box has documents already; false when it has. */
  saveConfig(queueId: string, config: ItCashboxConfig, at: string): Promise<boolean>
  /** The newest document of the cash box (highest Z, then document number), outside any receipt. */
  lastDocument(queueId: string): Promise<ItDocument | undefined>
  /** Inside a receipt's unit of work. */
  configIn(unit: UnitOfWork, queueId: string): Promise<ItCashboxConfig | undefined>
  /**
   * The sale a receipt reference made (the newest, preferring the same terminal), for a refund or void to
   * name; the device itself refuses a second refund or void of it.
   */
  saleOfReferenceIn(
    unit: UnitOfWork,
    queueId: string,
    receiptReference: string,
    terminalId: string | undefined,
  ): Promise<ItDocument | undefined>
  insertDocumentIn(unit: UnitOfWork, document: ItDocument): Promise<void>
  /** Failed mode: a receipt held in its unit of work (state `held` or `sent`). */
  holdIn(unit: UnitOfWork, held: HeldReceipt): Promise<void>
  /** How many receipts of the cash box wait for the device (`held` or `sent`), inside a unit of work. */
  waitingCountIn(unit: UnitOfWork, queueId: string): Promise<number>
  /** The receipts waiting for the device, in the cash box's order. */
  waiting(queueId: string): Promise<HeldReceipt[]>
  /** Every held receipt of the cash box, in order, with the device's numbers of those printed. */
  heldReceipts(queueId: string): Promise<(HeldReceipt & { document?: ItDocument })[]>
  /*
   * The resend's own durable steps, outside any receipt: the zero receipt's call prints several documents,
   * and each one's fate must survive a crash in the middle of it.
   */
  markSent(queueId: string, queueRow: number): Promise<void>
  settlePrinted(document: ItDocument): Promise<void>
  settleRefused(queueId: string, queueRow: number, error: string): Promise<void>
}
