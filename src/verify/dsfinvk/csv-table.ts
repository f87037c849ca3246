import type { DeclaredColumn, DeclaredTable } from './index-description.ts'

/**
 * Reads one DSFinV-K CSV file by what index.xml declares for it (delimiters, encapsulator, header rows)
 * and checks every value against its column's type. Values come back unquoted, by column name.
 */

export interface CsvField {
  value: string
  quoted: boolean
}

export interface ReadTable {
  file: string
  header: string[]
  /** Data rows by column name; `line` is the row's number in the file (the header is row 1). */
  rows: { line: number; values: Map<string, string> }[]
}

export type Problem = string

/** Splits the text into records of fields; a field in encapsulators may hold delimiters and doubled quotes. */
export function splitRecords(text: string, table: DeclaredTable): CsvField[][] | string {
  const { columnDelimiter: comma, recordDelimiter: newline, textEncapsulator: quote } = table
  const records: CsvField[][] = []
  let record: CsvField[] = []
  let i = 0
  while (i < text.length) {
    let field: CsvField
    if (text.startsWith(quote, i)) {
      let value = ''
      let j = i + quote.length
      for (;;) {
        const end = text.indexOf(quote, j)
        if (end === -1) return `record ${records.length + 1}: a quoted value is never closed`
        value += text.slice(j, end)
        if (text.startsWith(quote, end + quote.length)) {
          value += quote
          j = end + 2 * quote.length
        } else {
          i = end + quote.length
          break
        }
      }
      field = { value, quoted: true }
    } else {
      let end = i
      while (end < text.length && !text.startsWith(comma, end) && !text.startsWith(newline, end)) end++
      field = { value: text.slice(i, end), quoted: false }
      i = end
    }
    record.push(field)
    if (text.startsWith(comma, i)) i += comma.length
    else if (text.startsWith(newline, i) || i >= text.length) {
      records.push(record)
      record = []
      i += newline.length
    } else return `record ${records.length + 1}: text after a quoted value`
  }
  return records
}

/** The rule a value breaks, or undefined. Empty unquoted values are NULL and fit every type. */
export function typeProblem(
  column: DeclaredColumn,
  field: CsvField,
  decimalSymbol: string,
): string | undefined {
  if (!field.quoted && field.value === '') return undefined
  if (column.type === 'alphanumeric') {
    if (!field.quoted) return 'AlphaNumeric value not in the text encapsulator'
    const length = [...field.value].length
    if (column.maxLength !== undefined && length > column.maxLength)
      return `${length} characters, MaxLength ${column.maxLength}`
    return undefined
  }
  if (field.quoted) return 'Numeric value in the text encapsulator'
  const fraction = column.accuracy > 0 ? `\\${decimalSymbol}\\d{${column.accuracy}}` : ''
  if (!new RegExp(`^-?\\d+${fraction}$`).test(field.value))
    return column.accuracy > 0
      ? `"${field.value}" is not a Numeric with ${column.accuracy} decimals after '${decimalSymbol}'`
      : `"${field.value}" is not a whole Numeric`
  return undefined
}

/** The table's rows, with a problem per broken rule (file, row, column, rule). */
export function readTable(data: Buffer, table: DeclaredTable, problems: Problem[]): ReadTable {
  const read: ReadTable = { file: table.file, header: [], rows: [] }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(data)
  if (text.includes('\uFFFD')) problems.push(`${table.file}: not valid UTF-8`)
  const records = splitRecords(text, table)
  if (typeof records === 'string') {
    problems.push(`${table.file}: ${records}`)
    return read
  }
  const expected = table.columns.map((c) => c.name)
  const headerRow = records[table.firstDataRow - 2]
  read.header = headerRow?.map((f) => f.value) ?? []
  if (read.header.join(';') !== expected.join(';')) {
    const missing = expected.filter((name) => !read.header.includes(name))
    const extra = read.header.filter((name) => !expected.includes(name))
    problems.push(
      `${table.file} row 1: header does not match index.xml's columns in order` +
        `${missing.length ? ` (missing ${missing.join(', ')})` : ''}${extra.length ? ` (not declared ${extra.join(', ')})` : ''}`,
    )
    return read
  }
  records.slice(table.firstDataRow - 1).forEach((record, index) => {
    const line = table.firstDataRow + index
    if (record.length !== table.columns.length) {
      problems.push(`${table.file} row ${line}: ${record.length} values for ${table.columns.length} columns`)
      return
    }
    const values = new Map<string, string>()
    table.columns.forEach((column, c) => {
      const field = record[c] as CsvField
      const problem = typeProblem(column, field, table.decimalSymbol)
      if (problem) problems.push(`${table.file} row ${line} ${column.name}: ${problem}`)
      values.set(column.name, field.value)
    })
    read.rows.push({ line, values })
  })
  return read
}
