import type { ColumnType, TableSpec } from './tables.ts'

/**
 * DSFinV-K CSV: UTF-8, ';' between fields, CRLF after every record, a header row, text in '"' (doubled
 * inside), decimal comma without digit grouping. Amounts arrive as exact cents, quantities as millionths.
 */
export type Cell = string | number | bigint | null

const commaDecimal = (value: bigint, decimals: number): string => {
  const abs = value < 0n ? -value : value
  const unit = 10n ** BigInt(decimals)
  const fraction = (abs % unit).toString().padStart(decimals, '0')
  return `${value < 0n ? '-' : ''}${abs / unit},${fraction}`
}

/** Millionths rounded half away from zero to thousandths. */
const thousandths = (micros: bigint): bigint => {
  const abs = micros < 0n ? -micros : micros
  const rounded = (abs + 500n) / 1000n
  return micros < 0n ? -rounded : rounded
}

export function cell(type: ColumnType, value: Cell): string {
  if (value === null) return ''
  switch (type) {
    case 'text':
      return `"${String(value).replaceAll('"', '""')}"`
    case 'int':
      return String(value)
    case 'amount':
      return commaDecimal(BigInt(value), 2)
    case 'quantity':
      return commaDecimal(thousandths(BigInt(value)), 3)
    case 'timestamp':
      // ISO moments are written as YYYY-MM-DDThh:mm:ss (UTC), the format index.xml declares.
      return String(value).slice(0, 19)
    case 'day':
      return String(value).slice(0, 10)
  }
}

export function csvFile(spec: TableSpec, rows: Cell[][]): string {
  const lines = [spec.columns.map(([name]) => name).join(';')]
  for (const row of rows) {
    if (row.length !== spec.columns.length)
      throw new Error(`${spec.file}: a row has ${row.length} values for ${spec.columns.length} columns`)
    lines.push(row.map((value, i) => cell((spec.columns[i] as [string, ColumnType])[1], value)).join(';'))
  }
  return `${lines.join('\r\n')}\r\n`
}
