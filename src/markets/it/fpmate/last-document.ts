/**
 * The record `directIO command="1387" data="01"` answers with: the last document the device emitted,
 * fixed width after the two-character operation code. This is how a client learns, after a lost
 * answer, whether its document was printed, without printing anything again.
 *
 *   @0 op "01" | @2 total cents (9) | @11 VAT cents (9) | @20 date DDMMYY | @26 time HHMMSS | @32 Z (4)
 *   | @36 document (4) | @40 serial (11) | @51 lottery flag (1) | @52 lottery code (8) | @60 fiscal flag
 *   | @61 e-receipt UUID (40) | @101 PDF name (60) | @161 spare (32)
 */
export const LAST_DOCUMENT_COMMAND = '1387'
export const LAST_DOCUMENT_LENGTH = 193
/** Everything up to the fiscal flag; the e-receipt tail may be missing on older firmware. */
const MINIMUM_LENGTH = 61

export interface LastDocument {
  /** Total in cents. */
  amount: number
  /** VAT in cents. */
  vat: number
  /** Device clock, local time, `yyyy-MM-ddTHH:mm:ss` (the record has two-digit years: 20yy). */
  moment: string
  zNumber: number
  documentNumber: number
  serialNumber: string
  /** The lottery code printed on the document, when there was one. */
  lotteryCode?: string
  /** false: a non-fiscal document. */
  fiscal: boolean
  /** Electronic receipts: the document's UUID and PDF name; empty otherwise. */
  uuid: string
  pdfName: string
}

export class LastDocumentError extends Error {
  constructor(message: string) {
    super(`directIO 1387 record: ${message}`)
    this.name = 'LastDocumentError'
  }
}

const MOMENT = /^20(\d{2})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/

function digits(value: number, width: number, name: string): string {
  if (!Number.isSafeInteger(value) || value < 0 || String(value).length > width)
    throw new LastDocumentError(`${name} must be a whole number of at most ${width} digits, got ${value}`)
  return String(value).padStart(width, '0')
}

function text(value: string, width: number, name: string): string {
  if (value.length > width) throw new LastDocumentError(`${name} is longer than ${width} characters`)
  return value.padEnd(width, ' ')
}

export function encodeLastDocument(document: LastDocument): string {
  const moment = MOMENT.exec(document.moment)
  if (!moment)
    throw new LastDocumentError(`moment must be yyyy-MM-ddTHH:mm:ss in 2000-2099, got ${document.moment}`)
  const [, yy, mo, d, h, mi, s] = moment
  return [
    '01',
    digits(document.amount, 9, 'amount'),
    digits(document.vat, 9, 'vat'),
    `${d}${mo}${yy}`,
    `${h}${mi}${s}`,
    digits(document.zNumber, 4, 'zNumber'),
    digits(document.documentNumber, 4, 'documentNumber'),
    text(document.serialNumber, 11, 'serialNumber'),
    document.lotteryCode ? '1' : '0',
    text(document.lotteryCode ?? '', 8, 'lotteryCode'),
    document.fiscal ? '1' : '0',
    text(document.uuid, 40, 'uuid'),
    text(document.pdfName, 60, 'pdfName'),
    ' '.repeat(32),
  ].join('')
}

export function decodeLastDocument(record: string): LastDocument {
  if (record.length < MINIMUM_LENGTH)
    throw new LastDocumentError(`must be at least ${MINIMUM_LENGTH} characters, got ${record.length}`)
  const digitsAt = (from: number, width: number, name: string) => {
    const slice = record.slice(from, from + width)
    if (!/^\d+$/.test(slice))
      throw new LastDocumentError(`${name} at ${from} is not digits: ${JSON.stringify(slice)}`)
    return slice
  }
  const number = (from: number, width: number, name: string) => Number(digitsAt(from, width, name))
  const at = (from: number, width: number) => record.slice(from, from + width)
  const date = digitsAt(20, 6, 'date')
  const time = digitsAt(26, 6, 'time')
  const lotteryFlag = at(51, 1)
  const fiscalFlag = at(60, 1)
  if (fiscalFlag !== '0' && fiscalFlag !== '1')
    throw new LastDocumentError(`the fiscal flag at 60 must be 0 or 1, got ${JSON.stringify(fiscalFlag)}`)
  return {
    amount: number(2, 9, 'amount'),
    vat: number(11, 9, 'vat'),
    moment: `20${date.slice(4, 6)}-${date.slice(2, 4)}-${date.slice(0, 2)}T${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4, 6)}`,
    zNumber: number(32, 4, 'zNumber'),
    documentNumber: number(36, 4, 'documentNumber'),
    serialNumber: at(40, 11).trim(),
    ...(lotteryFlag === '1' ? { lotteryCode: at(52, 8).trim() } : {}),
    fiscal: fiscalFlag === '1',
    uuid: at(61, 40).trim(),
    pdfName: at(101, 60).trim(),
  }
}
