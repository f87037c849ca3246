import { invalid } from '../../../core/errors.ts'
import { MICROS_SCALE } from '../../../core/money.ts'
import { CERTIFICATE_COLUMNS, type Column, TABLES } from './tables.ts'

/**
 * What DSFinV-K's MaxLength counts: the characters of the value, as a reader of the UTF-8 CSV counts them
 * once it has removed the quotes around the value and undoubled the quotes inside it. A character is a
 * Unicode code point: an astral character such as U+1F600 is one, although it is two UTF-16 units of a
 * JavaScript string's length and four bytes of UTF-8. fiscalbox's verifier counts the same way.
 */
export const charactersOf = (value: string): number => [...value].length

/** The text column a value must fit: the tightest of those the writer puts it in. */
export interface TextColumn {
  file: string
  column: string
  maxLength: number
}

function columnOf(file: string, name: string): Column {
  const column = TABLES.find((t) => t.file === file)?.columns.find((c) => c.name === name)
  if (!column) throw new Error(`DSFinV-K has no column ${name} in ${file}`)
  return column
}

function tightest(...places: Array<[file: string, column: string]>): TextColumn {
  const columns = places.map(([file, name]) => {
    const { maxLength } = columnOf(file, name)
    if (maxLength === undefined) throw new Error(`DSFinV-K column ${name} of ${file} is not text`)
    return { file, column: name, maxLength }
  })
  return columns.reduce((a, b) => (b.maxLength < a.maxLength ? b : a))
}

/**
 * Where exporter.ts writes the values a receipt brings (the limits are those of tables.ts). A value written
 * to several columns must fit the shortest of them.
 */
export const RECEIPT_COLUMNS = {
  itemText: tightest(['lines.csv', 'ARTIKELTEXT']),
  terminalId: tightest(
    ['lines.csv', 'POS_TERMINAL_ID'],
    ['transactions.csv', 'TERMINAL_ID'],
    ['slaves.csv', 'TERMINAL_ID'],
    ['slaves.csv', 'TERMINAL_SERIENNR'],
  ),
  reference: tightest(['transactions.csv', 'BON_NOTIZ']),
  // A previous receipt outside the export is named by its reference (REF_TYP ExterneSonstige).
  previousReference: tightest(['references.csv', 'REF_NAME']),
  paymentName: tightest(['datapayment.csv', 'ZAHLART_NAME'], ['payment.csv', 'ZAHLART_NAME']),
  currency: tightest(['datapayment.csv', 'ZAHLWAEH_CODE'], ['cash_per_currency.csv', 'ZAHLART_WAEH']),
  processData: tightest(['transactions_tse.csv', 'TSE_VORGANGSDATEN']),
  tseError: tightest(['transactions_tse.csv', 'TSE_TA_FEHLER']),
} as const

/** Where exporter.ts writes what a TSS says of itself (tse.csv) and the client serial that keys every row. */
export const TSE_COLUMNS = {
  clientSerial: tightest(
    ['cashregister.csv', 'Z_KASSE_ID'],
    ['cashregister.csv', 'KASSE_SERIENNR'],
    ['references.csv', 'REF_Z_KASSE_ID'],
  ),
  serialNumber: tightest(['tse.csv', 'TSE_SERIAL']),
  algorithm: tightest(['tse.csv', 'TSE_SIG_ALGO']),
  publicKey: tightest(['tse.csv', 'TSE_PUBLIC_KEY']),
} as const

/** A certificate as tse.csv carries it: the base64 of its DER, without PEM armour or line breaks. */
export const certificateText = (pem: string): string => pem.replace(/-----[A-Z ]+-----|\s/g, '')

/** The certificate is split over TSE_ZERTIFIKAT_I to _VII (exporter.ts): together they hold this much. */
export const CERTIFICATE_COLUMNS_TEXT: TextColumn = {
  file: 'tse.csv',
  column: `${(CERTIFICATE_COLUMNS[0] as Column).name} to ${(CERTIFICATE_COLUMNS.at(-1) as Column).name}`,
  maxLength: CERTIFICATE_COLUMNS.reduce((sum, c) => sum + (c.maxLength ?? 0), 0),
}

/** A quantity with more decimals than MENGE's Accuracy would be rounded there and break STK_BR x MENGE. */
const MENGE = { file: 'lines.csv', column: 'MENGE' }
const QUANTITY_DECIMALS = columnOf(MENGE.file, MENGE.column).accuracy ?? 0
const QUANTITY_STEP = 10n ** BigInt(MICROS_SCALE - QUANTITY_DECIMALS)

/**
 * 400 naming the field when the value is longer than the column allows; `what` names a value composed
 * from the field (e.g. processData) rather than the field's own text.
 */
export function checkFits(value: string, field: string, target: TextColumn, what?: string): void {
  const length = charactersOf(value)
  if (length > target.maxLength)
    throw invalid(
      field,
      `${what ? `${what}: ` : ''}at most ${target.maxLength} characters (it has ${length}): DSFinV-K column ${target.column} of ${target.file}`,
    )
}

/** 400 naming the field when a quantity (millionths) has more decimals than MENGE keeps. */
export function checkQuantity(micros: bigint, field: string): void {
  if (micros % QUANTITY_STEP !== 0n)
    throw invalid(
      field,
      `at most ${QUANTITY_DECIMALS} decimals: DSFinV-K column ${MENGE.column} of ${MENGE.file} has Accuracy ${QUANTITY_DECIMALS}`,
    )
}

/** The value cut to the column, for text fiscalbox composes itself (never the POS's data, which is refused). */
export function clipped(value: string, target: TextColumn): string {
  if (charactersOf(value) <= target.maxLength) return value
  return `${[...value].slice(0, target.maxLength - 1).join('')}…`
}
