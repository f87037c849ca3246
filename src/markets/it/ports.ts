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
}
