import { berlinTimestamp } from '../local-time.ts'
import type { Column, TableSpec } from './tables.ts'

/**
 * DSFinV-K CSV: UTF-8, ';' between fields, CRLF after every record, a header row, AlphaNumeric values in
 * '"' (doubled inside), Numeric values bare with a decimal comma, no digit grouping and exactly the
 * Accuracy index.xml declares. Decimals arrive exact, as units of 10^-scale.
 */
export interface Fixed {
  units: bigint
  scale: number
}
export type Cell = string | number | bigint | boolean | Fixed | null

export const fixed = (units: bigint, scale: number): Fixed => ({ units, scale })
export const cents = (units: bigint): Fixed => fixed(units, 2)

/** numerator / denominator rounded half away from zero. */
export function divideRounded(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n
  const n = numerator < 0n ? -numerator : numerator
  const d = denominator < 0n ? -denominator : denominator
  const rounded = (2n * n + d) / (2n * d)
  return negative ? -rounded : rounded
}

function commaDecimal(value: Fixed, accuracy: number): string {
  const units =
    accuracy >= value.scale
      ? value.units * 10n ** BigInt(accuracy - value.scale)
      : divideRounded(value.units, 10n ** BigInt(value.scale - accuracy))
  const abs = units < 0n ? -units : units
  const sign = units < 0n ? '-' : ''
  if (accuracy === 0) return `${sign}${abs}`
  const unit = 10n ** BigInt(accuracy)
  return `${sign}${abs / unit},${(abs % unit).toString().padStart(accuracy, '0')}`
}

const quoted = (value: string) => `"${value.replaceAll('"', '""')}"`

export function cell(column: Column, value: Cell): string {
  if (value === null) return ''
  switch (column.type) {
    case 'text':
    case 'day':
      return quoted(String(value))
    case 'flag':
      return quoted(value === true ? '1' : '0')
    case 'timestamp':
      // Stored as ISO moments (UTC); DSFinV-K times are local time, see local-time.ts.
      return quoted(berlinTimestamp(new Date(String(value))))
    case 'int':
      return String(value)
    case 'decimal':
      if (typeof value !== 'object') throw new Error(`${column.name}: a decimal needs its scale`)
      return commaDecimal(value, column.accuracy ?? 0)
  }
}

export function csvFile(spec: TableSpec, rows: Cell[][]): string {
  const lines = [spec.columns.map((column) => column.name).join(';')]
  for (const row of rows) {
    if (row.length !== spec.columns.length)
      throw new Error(`${spec.file}: a row has ${row.length} values for ${spec.columns.length} columns`)
    lines.push(row.map((value, i) => cell(spec.columns[i] as Column, value)).join(';'))
  }
  return `${lines.join('\r\n')}\r\n`
}
