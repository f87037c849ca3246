import { wallClockFormat } from '../../../core/wall-clock.ts'
import {
  type DocumentReference,
  encodeLastDocument,
  type FiscalReportStep,
  type FpmateCommand,
  type FpmateResponse,
  formatAmount,
  LAST_DOCUMENT_COMMAND,
  type NonFiscalStep,
  type PrinterCommandStep,
  UNKNOWN_SERIAL,
} from '../fpmate/index.ts'
import { type DraftDocument, readFiscalReceipt } from './fiscal-receipt.ts'
import { DeviceRefusal } from './refusal.ts'
import type { DeviceState, JournalDocument } from './state.ts'

/** What the operator can do to the printer: take the paper out, open the cover, keep it busy. */
export interface DeviceConditions {
  paperOut: boolean
  coverOpen: boolean
  /** Busy with something else (e.g. a report started at its keyboard): commands get PRINTER ERROR 17. */
  busy: boolean
}

export interface RtDeviceOptions {
  /** Called with the state after every change (the state file). */
  persist?: (state: DeviceState) => void
  /** Epoch ms; default Date.now. */
  clock?: () => number
  /** The device clock's zone; default Europe/Rome. */
  timeZone?: string
  /** VAT rate in percent by department; departments not listed are 0 % (natures). */
  vatRates?: Readonly<Record<number, number>>
}

/** The departments as RT printers usually come programmed: 1 = 22 %, 2 = 10 %, 3 = 5 %, 4 = 4 %. */
export const DEFAULT_VAT_RATES: Readonly<Record<number, number>> = { 1: 22, 2: 10, 3: 5, 4: 4 }

/** The device's answer, or none: directIO 4034 restarts the printer, which drops the connection. */
export type DeviceAnswer = { response: FpmateResponse } | { restart: true }

const RESTART_COMMAND = '4034'
const SALE_LAST_COMMAND = '74'
const SUCCESS_STATUS = 2
const MAX_DOCUMENTS_PER_DAY = 9999

interface WallClock {
  /** yyyy-MM-ddTHH:mm:ss */
  moment: string
  /** d/M/yyyy */
  date: string
  /** HH:mm */
  time: string
}

/**
 * An Epson RT printer's fiscal memory and firmware rules, without the network: counters (Z, document
 * number, day open, takings), the electronic journal, returns and voids checked against it, the daily
 * closure, the last-document record and the status queries.
 */
export class RtDevice {
  readonly conditions: DeviceConditions = { paperOut: false, coverOpen: false, busy: false }
  private readonly clock: () => number
  private readonly wallClock: Intl.DateTimeFormat
  private readonly vatRates: Readonly<Record<number, number>>

  constructor(
    readonly state: DeviceState,
    private readonly options: RtDeviceOptions = {},
  ) {
    this.clock = options.clock ?? Date.now
    this.wallClock = wallClockFormat(options.timeZone ?? 'Europe/Rome')
    this.vatRates = options.vatRates ?? DEFAULT_VAT_RATES
  }

  handle(command: FpmateCommand): DeviceAnswer {
    try {
      switch (command.root) {
        case 'printerFiscalReceipt':
          this.mustPrint()
          return this.answer(
            this.fiscalReceipt(readFiscalReceipt(command.steps, (d) => this.vatRates[d] ?? 0)),
          )
        case 'printerFiscalReport':
          this.mustPrint()
          return this.answer(this.report(command.steps))
        case 'printerNonFiscal':
          this.mustPrint()
          return this.answer(this.nonFiscal(command.steps))
        case 'printerCommand':
          return this.command(command.steps)
      }
    } catch (error) {
      if (!(error instanceof DeviceRefusal)) throw error
      return {
        response: {
          success: false,
          code: error.code,
          status: error.status,
          addInfo: { printerStatus: this.printerStatus() },
        },
      }
    }
  }

  /** Five characters: printer (0 ok, 3 offline), journal ok, drawer closed, no document open, registration. */
  printerStatus(): string {
    const offline = this.conditions.paperOut || this.conditions.coverOpen
    return `${offline ? '3' : '0'}0110`
  }

  private answer(addInfo: Record<string, string>): DeviceAnswer {
    return { response: { success: true, code: '', status: SUCCESS_STATUS, addInfo } }
  }

  private mustPrint(): void {
    if (this.conditions.paperOut || this.conditions.coverOpen)
      throw new DeviceRefusal(3, 'paper out or cover open', 'EPTR_REC_EMPTY')
    if (this.conditions.busy) throw new DeviceRefusal(17, 'the printer is busy')
  }

  private now(): { epoch: number } & WallClock {
    const epoch = this.clock()
    const part: Record<string, string> = {}
    for (const p of this.wallClock.formatToParts(new Date(epoch))) part[p.type] = p.value
    return {
      epoch,
      moment: `${part.year}-${part.month}-${part.day}T${part.hour}:${part.minute}:${part.second}`,
      date: `${Number(part.day)}/${Number(part.month)}/${part.year}`,
      time: `${part.hour}:${part.minute}`,
    }
  }

  /** The device clock, refused when it is before the last closure (error 9). */
  private fiscalNow() {
    const now = this.now()
    if (this.state.lastClosureAt !== null && now.epoch < this.state.lastClosureAt)
      throw new DeviceRefusal(9, 'the date is earlier than the last fiscal closure')
    return now
  }

  private fiscalReceipt(draft: DraftDocument): Record<string, string> {
    const now = this.fiscalNow()
    if (this.state.documentNumber >= MAX_DOCUMENTS_PER_DAY)
      throw new DeviceRefusal(21, 'the daily maximum of documents is reached: print the Z report')
    const original = draft.reference ? this.original(draft.reference) : undefined
    const state = this.state
    const document: JournalDocument = {
      ...draft,
      zNumber: state.zNumber,
      documentNumber: state.documentNumber + 1,
      moment: now.moment,
    }
    const number = `${four(document.zNumber)}-${four(document.documentNumber)}`
    if (original && document.type === 'VOID') original.voidedBy = number
    if (original && document.type === 'REFUND') original.refundedBy = number
    state.documentNumber = document.documentNumber
    state.dayOpen = true
    state.dailyAmount += document.type === 'SALE' ? document.amount : -document.amount
    state.journal.push(document)
    state.lastDocument = {
      amount: document.amount,
      vat: document.vat,
      moment: document.moment,
      zNumber: document.zNumber,
      documentNumber: document.documentNumber,
      serialNumber: state.serialNumber,
      ...(document.lotteryCode ? { lotteryCode: document.lotteryCode } : {}),
      fiscal: true,
      uuid: '',
      pdfName: '',
    }
    this.options.persist?.(state)
    return {
      lastCommand: SALE_LAST_COMMAND,
      printerStatus: this.printerStatus(),
      fiscalReceiptNumber: String(document.documentNumber),
      fiscalReceiptAmount: formatAmount(document.amount),
      fiscalReceiptDate: now.date,
      fiscalReceiptTime: now.time,
      receiptISODateTime: now.moment.replace(/[-:]/g, ''),
      zRepNumber: String(document.zNumber),
      serialNumber: state.serialNumber,
    }
  }

  /**
   * The sale a return or void refers to, checked: a reference to this device's own journal must name a
   * sale (41/42) not yet voided (39) or returned (40). Other devices' documents and ND references cannot
   * be checked here and are accepted.
   */
  private original(reference: DocumentReference): JournalDocument | undefined {
    if (reference.serialNumber === UNKNOWN_SERIAL || reference.serialNumber !== this.state.serialNumber)
      return undefined
    const original = this.state.journal.find(
      (entry): entry is JournalDocument =>
        entry.type !== 'ZREPORT' &&
        entry.zNumber === reference.zNumber &&
        entry.documentNumber === reference.documentNumber,
    )
    const named = `document ${four(reference.zNumber)}-${four(reference.documentNumber)}`
    if (!original || original.moment.slice(0, 10) !== reference.date)
      throw new DeviceRefusal(12, `${named} of ${reference.date} is not in the journal`)
    if (original.type !== 'SALE')
      throw new DeviceRefusal(
        reference.kind === 'VOID' ? 41 : 42,
        `${named} is a ${original.type} document, which cannot be referenced`,
      )
    if (original.voidedBy) throw new DeviceRefusal(39, `${named} was voided by ${original.voidedBy}`)
    if (original.refundedBy) throw new DeviceRefusal(40, `${named} was returned by ${original.refundedBy}`)
    return original
  }

  private report(steps: readonly FiscalReportStep[]): Record<string, string> {
    let answer: Record<string, string> = { printerStatus: this.printerStatus() }
    for (const step of steps) {
      if (step.kind === 'printXReport' || step.kind === 'printXZReport') answer = this.dailyFigures()
      if (step.kind === 'printZReport' || step.kind === 'printXZReport') answer = this.closeDay()
    }
    return answer
  }

  private dailyFigures(): Record<string, string> {
    return {
      printerStatus: this.printerStatus(),
      zRepNumber: String(this.state.zNumber),
      dailyAmount: formatAmount(this.state.dailyAmount),
    }
  }

  /** The daily closure: answers with the Z it closes, then the next day starts at document 0. */
  private closeDay(): Record<string, string> {
    const now = this.fiscalNow()
    const state = this.state
    const answer = this.dailyFigures()
    state.journal.push({
      type: 'ZREPORT',
      zNumber: state.zNumber,
      moment: now.moment,
      dailyAmount: state.dailyAmount,
      documents: state.documentNumber,
    })
    state.zNumber += 1
    state.documentNumber = 0
    state.dayOpen = false
    state.dailyAmount = 0
    state.lastClosureAt = now.epoch
    this.options.persist?.(state)
    return answer
  }

  private nonFiscal(steps: readonly NonFiscalStep[]): Record<string, string> {
    if (steps[0]?.kind !== 'beginNonFiscal' || steps.at(-1)?.kind !== 'endNonFiscal')
      throw new DeviceRefusal(11, 'a non-fiscal document goes from beginNonFiscal to endNonFiscal')
    if (steps.slice(1, -1).some((step) => step.kind !== 'printNormal'))
      throw new DeviceRefusal(11, 'only printNormal lines go between beginNonFiscal and endNonFiscal')
    const now = this.now()
    const state = this.state
    state.nonFiscalNumber += 1
    state.lastDocument = {
      amount: 0,
      vat: 0,
      moment: now.moment,
      zNumber: state.zNumber,
      documentNumber: state.nonFiscalNumber,
      serialNumber: state.serialNumber,
      fiscal: false,
      uuid: '',
      pdfName: '',
    }
    this.options.persist?.(state)
    return { printerStatus: this.printerStatus() }
  }

  private command(steps: readonly PrinterCommandStep[]): DeviceAnswer {
    let answer: DeviceAnswer = this.answer({ printerStatus: this.printerStatus() })
    for (const step of steps) {
      if (step.kind === 'queryPrinterStatus') answer = this.answer(this.status(step.statusType ?? 0))
      else if (step.kind === 'directIO') {
        if (step.command === RESTART_COMMAND) return { restart: true }
        if (step.command !== LAST_DOCUMENT_COMMAND)
          throw new DeviceRefusal(16, `directIO ${step.command} is not one this simulator knows`)
        answer = this.answer({ printerStatus: this.printerStatus(), responseData: this.lastDocumentRecord() })
      } else if (step.kind === 'resetPrinter') {
        // Every document arrives whole in one request, so there is never an open one to cancel.
        answer = this.answer({ printerStatus: this.printerStatus() })
      }
    }
    return answer
  }

  /** Before the first document the record is all zeros, non-fiscal. */
  private lastDocumentRecord(): string {
    return encodeLastDocument(
      this.state.lastDocument ?? {
        amount: 0,
        vat: 0,
        moment: '2000-01-01T00:00:00',
        zNumber: 0,
        documentNumber: 0,
        serialNumber: this.state.serialNumber,
        fiscal: false,
        uuid: '',
        pdfName: '',
      },
    )
  }

  private status(statusType: number): Record<string, string> {
    const basic = {
      printerStatus: this.printerStatus(),
      cpuRel: '07.00',
      mfRel: '04.3',
      mfStatus: '02',
      fpStatus: this.printerStatus(),
    }
    if (statusType !== 1) return basic
    return {
      ...basic,
      rtType: 'I',
      rtMainStatus: '02',
      rtSubStatus: '08',
      rtDailyOpen: this.state.dayOpen ? '1' : '0',
      rtNoWorkingPeriod: '0',
      rtFileToSend: '0',
      rtOldFileToSend: '0',
      rtFileRejected: '0',
      rtExpiryCD: '20301231',
      rtExpiryCA: '20301231',
      rtTrainingMode: '0',
      rtUpgradeResult: '0',
    }
  }
}

const four = (n: number) => String(n).padStart(4, '0')
