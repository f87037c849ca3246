import type { FpmateResponse } from './responses.ts'

/**
 * The meaning of the firmware's error numbers (the `status` of a `PRINTER ERROR` answer) and of the
 * five-character printer status, as the published clients decode them.
 */
export const FIRMWARE_ERRORS: Readonly<Record<number, string>> = {
  2: 'paper low',
  3: 'printer offline (paper end or cover open)',
  7: 'slip printer problem',
  8: 'invalid key',
  9: 'date earlier than the last fiscal closure',
  10: 'bad date format',
  11: 'command sequence not allowed',
  12: 'data does not exist',
  13: 'wrong value',
  14: 'no serial number programmed',
  15: 'already exists',
  16: 'not expected (bad index or command)',
  17: 'not possible now',
  18: 'not possible',
  20: 'amount over the maximum',
  21: 'parameter out of range or daily maximum reached',
  22: 'needs programming',
  23: 'too many operations: close the document',
  25: 'no operator',
  27: 'sale above the department limit',
  28: 'no connection to the PC or server',
  30: 'checksum error (partita IVA, codice fiscale or lottery code)',
  34: 'function not activated',
  39: 'document already voided',
  40: 'document already returned',
  41: 'a void cannot reference a void or return document',
  42: 'a return cannot reference a void or return document',
}

/** One line for a failed answer, e.g. `PRINTER ERROR 39: document already voided (printer status 00110)`. */
export function describeFailure(response: FpmateResponse): string {
  const code = response.code || 'ERROR'
  const meaning = code === 'PRINTER ERROR' ? FIRMWARE_ERRORS[response.status] : undefined
  const printer = response.addInfo?.printerStatus
  return `${code} ${response.status}${meaning ? `: ${meaning}` : ''}${printer ? ` (printer status ${printer})` : ''}`
}

const PRINTER = { '0': 'ok', '2': 'paper near end', '3': 'offline' } as const
const JOURNAL = {
  '0': 'ok',
  '1': 'near full',
  '2': 'unformatted',
  '3': 'previous journal',
  '4': 'from another printer',
  '5': 'full',
} as const
const DRAWER = { '0': 'open', '1': 'closed' } as const
const DOCUMENT = {
  '0': 'fiscal open',
  '1': 'none open',
  '2': 'non-fiscal open',
  '3': 'payment in progress',
  '4': 'ESC/POS error, fiscal closed',
  '5': 'negative subtotal',
  '6': 'ESC/POS error, non-fiscal open',
  '7': 'awaiting closure',
  '8': 'direct invoice open',
  A: 'box-office ticket open',
  B: 'box-office ticket closed',
} as const
const MODE = { '0': 'registration', '1': 'X', '2': 'Z', '3': 'programming', '4': 'box office' } as const

export interface PrinterStatus {
  printer: string
  journal: string
  drawer: string
  document: string
  mode: string
}

/** Decodes `printerStatus`/`fpStatus` (e.g. `20110`); an unknown digit reads as `unknown (x)`. */
export function decodePrinterStatus(status: string): PrinterStatus {
  const read = (table: Record<string, string>, index: number) => {
    const digit = status[index] ?? ''
    return table[digit] ?? `unknown (${digit})`
  }
  return {
    printer: read(PRINTER, 0),
    journal: read(JOURNAL, 1),
    drawer: read(DRAWER, 2),
    document: read(DOCUMENT, 3),
    mode: read(MODE, 4),
  }
}
