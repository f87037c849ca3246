import { type DeclaredTable, IndexXmlError, readIndexXml } from './index-description.ts'
import { type Problem, type ReadTable, readTable } from './csv-table.ts'
import { checkFinishSignature, type TseKey, tseKey } from './tse-signature.ts'

/**
 * Checks a DSFinV-K export (index.xml and its CSV files) from its own description: every declared file
 * present and typed as declared, keys between the tables, amounts that must add up, and the TSE
 * signatures of transactions_tse.csv. Knows the DSFinV-K table and column names (the specification's),
 * not the writer's lists.
 */

export interface DsfinvkReport {
  format: 'DSFinV-K'
  ok: boolean
  tables: { file: string; rows: number }[]
  closings: number
  transactions: number
  signaturesVerified: number
  /** Signed rows whose signature the tables do not allow to rebuild, with why. */
  signaturesUnchecked: string[]
  problems: Problem[]
}

type Row = ReadTable['rows'][number]
const SCALE = 5
const CLOSING_KEY = ['Z_KASSE_ID', 'Z_ERSTELLUNG', 'Z_NR']

/** A Numeric value as units of 10^-5 (DSFinV-K amounts have at most 5 decimals). */
function units(text: string | undefined): bigint {
  // Values that are no Numeric are reported by the type check; here they count as nothing.
  if (!text || !/^-?\d+(,\d+)?$/.test(text)) return 0n
  const [integer, fraction = ''] = text.replace('-', '').split(',') as [string, string?]
  const value = BigInt(integer + fraction.padEnd(SCALE, '0').slice(0, SCALE))
  return text.startsWith('-') ? -value : value
}
const amount = (value: bigint) => {
  const abs = value < 0n ? -value : value
  const text = `${abs / 10n ** BigInt(SCALE)},${(abs % 10n ** BigInt(SCALE)).toString().padStart(SCALE, '0')}`
  return `${value < 0n ? '-' : ''}${text.replace(/0{1,3}$/, '')}`
}

/** A whole Numeric column of the row (0 when empty or not a number, which the type check reports). */
const whole = (row: Row, column: string) => {
  const text = row.values.get(column) ?? ''
  return /^-?\d+$/.test(text) ? BigInt(text) : 0n
}

const key = (row: Row, columns: string[]) => columns.map((c) => row.values.get(c) ?? '').join('\u0000')
const closingOf = (row: Row) => key(row, CLOSING_KEY)
const bonOf = (row: Row) => key(row, [...CLOSING_KEY, 'BON_ID'])

function sumBy(rows: Row[], by: (row: Row) => string, column: string): Map<string, bigint> {
  const sums = new Map<string, bigint>()
  for (const row of rows) sums.set(by(row), (sums.get(by(row)) ?? 0n) + units(row.values.get(column)))
  return sums
}

export function verifyDsfinvk(files: ReadonlyMap<string, Buffer>): DsfinvkReport {
  const report: DsfinvkReport = {
    format: 'DSFinV-K',
    ok: false,
    tables: [],
    closings: 0,
    transactions: 0,
    signaturesVerified: 0,
    signaturesUnchecked: [],
    problems: [],
  }
  const problems = report.problems
  let declared: DeclaredTable[]
  try {
    declared = readIndexXml((files.get('index.xml') as Buffer).toString('utf8'))
  } catch (error) {
    if (!(error instanceof IndexXmlError)) throw error
    problems.push(`index.xml: not well-formed: ${error.message}`)
    return report
  }
  const tables = new Map<string, ReadTable>()
  for (const table of declared) {
    const data = files.get(table.file)
    if (!data) {
      problems.push(`${table.file}: declared in index.xml but not in the export`)
      continue
    }
    const read = readTable(data, table, problems)
    tables.set(table.file, read)
    report.tables.push({ file: table.file, rows: read.rows.length })
  }
  for (const name of files.keys())
    if (name !== 'index.xml' && !declared.some((t) => t.file === name))
      problems.push(`${name}: not declared in index.xml`)
  const rowsOf = (file: string) => tables.get(file)?.rows ?? []

  const closings = new Set(rowsOf('cashpointclosing.csv').map(closingOf))
  const transactions = new Set(rowsOf('transactions.csv').map(bonOf))
  report.closings = closings.size
  report.transactions = transactions.size
  checkKeys(tables, closings, transactions, problems)
  checkTransactionTotals(rowsOf, problems)
  checkClosingTotals(rowsOf, problems)
  checkTse(rowsOf, report)
  report.ok = problems.length === 0
  return report
}

/** Every row belongs to a closing of cashpointclosing.csv, every BON_ID to a row of transactions.csv. */
function checkKeys(
  tables: Map<string, ReadTable>,
  closings: Set<string>,
  bons: Set<string>,
  problems: Problem[],
) {
  for (const [file, table] of tables) {
    if (!CLOSING_KEY.every((c) => table.header.includes(c))) continue
    const hasBon = file !== 'transactions.csv' && table.header.includes('BON_ID')
    for (const row of table.rows) {
      if (file !== 'cashpointclosing.csv' && !closings.has(closingOf(row)))
        problems.push(
          `${file} row ${row.line} Z_NR: closing ${row.values.get('Z_NR')} (Z_KASSE_ID, Z_ERSTELLUNG, Z_NR) is not in cashpointclosing.csv`,
        )
      else if (hasBon && !bons.has(bonOf(row)))
        problems.push(
          `${file} row ${row.line} BON_ID: ${row.values.get('BON_ID')} is not in transactions.csv`,
        )
    }
  }
}

/** Per transaction and VAT key: lines_vat adds up to transactions_vat; transactions_vat to UMS_BRUTTO. */
function checkTransactionTotals(rowsOf: (file: string) => Row[], problems: Problem[]) {
  const byVat = (row: Row) => `${bonOf(row)}\u0000${row.values.get('UST_SCHLUESSEL')}`
  const lines = sumBy(rowsOf('lines_vat.csv'), byVat, 'POS_BRUTTO')
  const receipt = sumBy(rowsOf('transactions_vat.csv'), bonOf, 'BON_BRUTTO')
  const seen = new Set<string>()
  for (const row of rowsOf('transactions_vat.csv')) {
    const k = byVat(row)
    seen.add(k)
    const expected = lines.get(k) ?? 0n
    if (expected !== units(row.values.get('BON_BRUTTO')))
      problems.push(
        `transactions_vat.csv row ${row.line} BON_BRUTTO: ${row.values.get('BON_BRUTTO')} but lines_vat.csv POS_BRUTTO of BON_ID ${row.values.get('BON_ID')} with UST_SCHLUESSEL ${row.values.get('UST_SCHLUESSEL')} add up to ${amount(expected)}`,
      )
  }
  for (const row of rowsOf('lines_vat.csv'))
    if (!seen.has(byVat(row)) && units(row.values.get('POS_BRUTTO')) !== 0n) {
      seen.add(byVat(row))
      problems.push(
        `lines_vat.csv row ${row.line} UST_SCHLUESSEL: BON_ID ${row.values.get('BON_ID')} has no transactions_vat.csv row for UST_SCHLUESSEL ${row.values.get('UST_SCHLUESSEL')}`,
      )
    }
  for (const row of rowsOf('transactions.csv')) {
    const total = receipt.get(bonOf(row)) ?? 0n
    if (row.values.get('UMS_BRUTTO') && total !== units(row.values.get('UMS_BRUTTO')))
      problems.push(
        `transactions.csv row ${row.line} UMS_BRUTTO: ${row.values.get('UMS_BRUTTO')} but transactions_vat.csv BON_BRUTTO add up to ${amount(total)}`,
      )
  }
  // STK_BR is the unit price rounded to 5 decimals: MENGE times it is the line's gross within that rounding.
  const lineGross = sumBy(
    rowsOf('lines_vat.csv'),
    (row) => key(row, [...CLOSING_KEY, 'BON_ID', 'POS_ZEILE']),
    'POS_BRUTTO',
  )
  for (const row of rowsOf('lines.csv')) {
    const quantity = units(row.values.get('MENGE'))
    if (quantity === 0n || !row.values.get('STK_BR')) continue
    const gross = lineGross.get(key(row, [...CLOSING_KEY, 'BON_ID', 'POS_ZEILE'])) ?? 0n
    const priced = (units(row.values.get('STK_BR')) * quantity) / 10n ** BigInt(SCALE)
    const slack = (quantity < 0n ? -quantity : quantity) / 2n / 10n ** BigInt(SCALE) + 1n
    const off = priced - gross
    if (off > slack || -off > slack)
      problems.push(
        `lines.csv row ${row.line} STK_BR: ${row.values.get('STK_BR')} x MENGE ${row.values.get('MENGE')} is not the line's gross ${amount(gross)} in lines_vat.csv`,
      )
  }
}

/** Per closing: businesscases by VAT key and payment by payment type equal what its transactions say. */
function checkClosingTotals(rowsOf: (file: string) => Row[], problems: Problem[]) {
  const compare = (
    file: string,
    column: string,
    rows: Row[],
    by: (row: Row) => string,
    expected: Map<string, bigint>,
    what: string,
  ) => {
    const stated = sumBy(rows, by, column)
    for (const k of new Set([...expected.keys(), ...stated.keys()])) {
      if ((stated.get(k) ?? 0n) === (expected.get(k) ?? 0n)) continue
      const [, , zNr, ...rest] = k.split('\u0000')
      problems.push(
        `${file} Z_NR ${zNr} ${rest.join(' ')} ${column}: ${amount(stated.get(k) ?? 0n)} but ${what} add up to ${amount(expected.get(k) ?? 0n)}`,
      )
    }
  }
  const byVat = (row: Row) => `${closingOf(row)}\u0000UST_SCHLUESSEL ${row.values.get('UST_SCHLUESSEL')}`
  compare(
    'businesscases.csv',
    'Z_UMS_BRUTTO',
    rowsOf('businesscases.csv'),
    byVat,
    sumBy(rowsOf('transactions_vat.csv'), byVat, 'BON_BRUTTO'),
    'transactions_vat.csv BON_BRUTTO',
  )
  const byType = (row: Row) =>
    `${closingOf(row)}\u0000ZAHLART_TYP ${row.values.get('ZAHLART_TYP')} ${row.values.get('ZAHLART_NAME')}`
  const paid = new Map<string, bigint>()
  for (const row of rowsOf('datapayment.csv')) {
    const base = row.values.get('BASISWAEH_BETRAG') || row.values.get('ZAHLWAEH_BETRAG')
    paid.set(byType(row), (paid.get(byType(row)) ?? 0n) + units(base))
  }
  compare('payment.csv', 'Z_ZAHLART_BETRAG', rowsOf('payment.csv'), byType, paid, 'datapayment.csv payments')
}

/** Signatures of transactions_tse.csv with tse.csv's keys; counters and times in order per TSE. */
function checkTse(rowsOf: (file: string) => Row[], report: DsfinvkReport) {
  const problems = report.problems
  const keys = new Map<string, TseKey>()
  for (const row of rowsOf('tse.csv')) {
    const found = tseKey(row.values)
    if (typeof found === 'string') problems.push(`tse.csv row ${row.line} TSE_PUBLIC_KEY: ${found}`)
    else keys.set(`${closingOf(row)}\u0000${row.values.get('TSE_ID')}`, found)
  }
  const perTse = new Map<string, Row[]>()
  for (const row of rowsOf('transactions_tse.csv')) {
    const signature = row.values.get('TSE_TA_SIG')
    if (!signature) continue
    const tseId = row.values.get('TSE_ID')
    const tse = keys.get(`${closingOf(row)}\u0000${tseId}`)
    if (!tse) {
      problems.push(`transactions_tse.csv row ${row.line} TSE_ID: ${tseId} is not in tse.csv for its closing`)
      continue
    }
    const start = Date.parse(row.values.get('TSE_TA_START') ?? '')
    const end = Date.parse(row.values.get('TSE_TA_ENDE') ?? '')
    if (Number.isNaN(start) || Number.isNaN(end) || start > end)
      problems.push(`transactions_tse.csv row ${row.line} TSE_TA_ENDE: not a time at or after TSE_TA_START`)
    else {
      const verdict = checkFinishSignature(
        tse,
        {
          clientId: row.values.get('Z_KASSE_ID') ?? '',
          processData: row.values.get('TSE_VORGANGSDATEN') ?? '',
          processType: row.values.get('TSE_TA_VORGANGSART') ?? '',
          transactionNumber: whole(row, 'TSE_TANR'),
          signatureCounter: whole(row, 'TSE_TA_SIGZ'),
          end: row.values.get('TSE_TA_ENDE') ?? '',
        },
        Buffer.from(signature, 'base64'),
      )
      if (verdict === true) report.signaturesVerified++
      else if (verdict === false)
        problems.push(
          `transactions_tse.csv row ${row.line} TSE_TA_SIG: signature does not verify with tse.csv's TSE_PUBLIC_KEY`,
        )
      else report.signaturesUnchecked.push(`transactions_tse.csv row ${row.line}: ${verdict}`)
    }
    const group = perTse.get(tse.serial) ?? []
    group.push(row)
    perTse.set(tse.serial, group)
  }
  for (const rows of perTse.values()) {
    const ordered = [...rows].sort((a, b) => Number(whole(a, 'TSE_TANR') - whole(b, 'TSE_TANR')))
    ordered.forEach((row, i) => {
      const before = ordered[i - 1]
      if (!before) return
      if (whole(row, 'TSE_TA_SIGZ') <= whole(before, 'TSE_TA_SIGZ'))
        problems.push(
          `transactions_tse.csv row ${row.line} TSE_TA_SIGZ: not above row ${before.line}'s, whose TSE_TANR is lower`,
        )
      if (
        Date.parse(row.values.get('TSE_TA_ENDE') ?? '') < Date.parse(before.values.get('TSE_TA_ENDE') ?? '')
      )
        problems.push(
          `transactions_tse.csv row ${row.line} TSE_TA_ENDE: before row ${before.line}'s, whose TSE_TANR is lower`,
        )
    })
  }
}
