import { createPublicKey, verify } from 'node:crypto'
import { parseDecimal } from '../../core/money.ts'
import { parseXml } from '../es/xml/parse.ts'
import { childAt, childElements, textAt, textOf, type XmlElement } from '../es/xml/tree.ts'

/**
 * The independent check of a SAF-T (PT) file: it rebuilds every document's signed message from the file
 * alone and verifies the Hash with the public key (RSA-SHA1), follows each series' chain and numbering,
 * and recomputes the line sums and the file's totals. It shares no code with the signer.
 */
export interface SaftReport {
  documents: number
  series: number
  /** series whose first document in the file continues an earlier chain: its Hash needs the one before */
  unchecked: string[]
  problems: string[]
}

const cents = (text: string | undefined, where: string): bigint => parseDecimal(text ?? '', where)

export function verifySaftPt(xml: string, publicKeyPem: string): SaftReport {
  const key = createPublicKey(publicKeyPem)
  const root = parseXml(xml)
  const problems: string[] = []
  const unchecked: string[] = []
  const sales = childAt(root, 'SourceDocuments', 'SalesInvoices')
  const invoices = sales ? childElements(sales, 'Invoice') : []
  const chains = new Map<string, { number: number; hash: string; entry: string }>()
  let debit = 0n
  let credit = 0n
  for (const invoice of invoices) {
    const field = (name: string) => textAt(invoice, name) ?? ''
    const invoiceNo = field('InvoiceNo')
    const match = /^([A-Z]{2}) ([^/ ]+)\/(\d+)$/.exec(invoiceNo)
    if (!match) {
      problems.push(`${invoiceNo}: InvoiceNo is not "TYPE SERIES/NUMBER"`)
      continue
    }
    const [, type, series, numberText] = match as unknown as [string, string, string, string]
    const number = Number(numberText)
    const chain = `${type} ${series}`
    const previous = chains.get(chain)
    const hash = field('Hash')
    const entry = field('SystemEntryDate')
    if (previous && number !== previous.number + 1)
      problems.push(`${invoiceNo}: follows number ${previous.number} of ${chain}: the numbering has a gap`)
    if (previous && entry < previous.entry)
      problems.push(
        `${invoiceNo}: SystemEntryDate ${entry} is before the previous document's ${previous.entry}`,
      )
    if (!field('ATCUD').endsWith(`-${number}`))
      problems.push(`${invoiceNo}: ATCUD ${field('ATCUD')} does not end with the document's number`)
    const previousHash = previous ? previous.hash : number === 1 ? '' : undefined
    if (previousHash === undefined) unchecked.push(`${invoiceNo} (continues ${chain})`)
    else {
      const message = `${field('InvoiceDate')};${entry};${invoiceNo};${textAt(invoice, 'DocumentTotals', 'GrossTotal') ?? ''};${previousHash}`
      const signature = Buffer.from(hash, 'base64')
      if (
        signature.toString('base64') !== hash ||
        !verify('sha1', Buffer.from(message, 'utf8'), key, signature)
      )
        problems.push(`${invoiceNo}: the Hash does not match the document's dates, number, total and chain`)
    }
    chains.set(chain, { number, hash, entry })
    problems.push(...totalsProblems(invoice, invoiceNo))
    const status = textAt(invoice, 'DocumentStatus', 'InvoiceStatus')
    if (status === 'A') continue
    const net = cents(textAt(invoice, 'DocumentTotals', 'NetTotal'), `${invoiceNo} NetTotal`)
    if (type === 'NC') debit += net
    else credit += net
  }
  if (sales) {
    const count = Number(textAt(sales, 'NumberOfEntries'))
    if (count !== invoices.length)
      problems.push(`NumberOfEntries is ${count}, the file holds ${invoices.length} documents`)
    if (cents(textAt(sales, 'TotalDebit'), 'TotalDebit') !== debit)
      problems.push(
        `TotalDebit is ${textAt(sales, 'TotalDebit')}, the credit notes' NetTotal adds up to ${format(debit)}`,
      )
    if (cents(textAt(sales, 'TotalCredit'), 'TotalCredit') !== credit)
      problems.push(
        `TotalCredit is ${textAt(sales, 'TotalCredit')}, the invoices' NetTotal adds up to ${format(credit)}`,
      )
  }
  const payments = paymentsProblems(root)
  problems.push(...payments.problems)
  return {
    documents: invoices.length + payments.documents,
    series: chains.size + payments.series,
    unchecked,
    problems,
  }
}

/**
 * The Payments section: payment receipts carry no Hash, so what is checked is each series' numbering
 * (no gap, no step back in time), the ATCUD, each receipt's lines against its totals, and the section's
 * count and TotalCredit.
 */
function paymentsProblems(root: XmlElement): { documents: number; series: number; problems: string[] } {
  const section = childAt(root, 'SourceDocuments', 'Payments')
  if (!section) return { documents: 0, series: 0, problems: [] }
  const problems: string[] = []
  const payments = childElements(section, 'Payment')
  const numbering = new Map<string, { number: number; entry: string }>()
  let credit = 0n
  for (const payment of payments) {
    const field = (name: string) => textAt(payment, name) ?? ''
    const refNo = field('PaymentRefNo')
    const match = /^([A-Z]{2}) ([^/ ]+)\/(\d+)$/.exec(refNo)
    if (!match) {
      problems.push(`${refNo}: PaymentRefNo is not "TYPE SERIES/NUMBER"`)
      continue
    }
    const [, type, series, numberText] = match as unknown as [string, string, string, string]
    const number = Number(numberText)
    const key = `${type} ${series}`
    const previous = numbering.get(key)
    const entry = field('SystemEntryDate')
    if (previous && number !== previous.number + 1)
      problems.push(`${refNo}: follows number ${previous.number} of ${key}: the numbering has a gap`)
    if (previous && entry < previous.entry)
      problems.push(`${refNo}: SystemEntryDate ${entry} is before the previous document's ${previous.entry}`)
    numbering.set(key, { number, entry })
    if (!field('ATCUD').endsWith(`-${number}`))
      problems.push(`${refNo}: ATCUD ${field('ATCUD')} does not end with the document's number`)
    let lines = 0n
    for (const line of childElements(payment, 'Line'))
      lines += cents(textAt(line, 'CreditAmount'), `${refNo} line CreditAmount`)
    const net = cents(textAt(payment, 'DocumentTotals', 'NetTotal'), `${refNo} NetTotal`)
    const tax = cents(textAt(payment, 'DocumentTotals', 'TaxPayable'), `${refNo} TaxPayable`)
    const gross = cents(textAt(payment, 'DocumentTotals', 'GrossTotal'), `${refNo} GrossTotal`)
    if (lines !== gross)
      problems.push(`${refNo}: the lines settle ${format(lines)}, GrossTotal is ${format(gross)}`)
    if (net + tax !== gross)
      problems.push(
        `${refNo}: NetTotal ${format(net)} + TaxPayable ${format(tax)} is not GrossTotal ${format(gross)}`,
      )
    if (textAt(payment, 'DocumentStatus', 'PaymentStatus') !== 'A') credit += lines
  }
  const count = Number(textAt(section, 'NumberOfEntries'))
  if (count !== payments.length)
    problems.push(`Payments NumberOfEntries is ${count}, the file holds ${payments.length} payments`)
  if (cents(textAt(section, 'TotalCredit'), 'Payments TotalCredit') !== credit)
    problems.push(
      `Payments TotalCredit is ${textAt(section, 'TotalCredit')}, the payments' lines add up to ${format(credit)}`,
    )
  if (cents(textAt(section, 'TotalDebit'), 'Payments TotalDebit') !== 0n)
    problems.push(`Payments TotalDebit is ${textAt(section, 'TotalDebit')}: payment receipts only credit`)
  return { documents: payments.length, series: numbering.size, problems }
}

const format = (micros: bigint) => (Number(micros) / 1e6).toFixed(2)

/** The lines' amounts add up to NetTotal, and NetTotal plus TaxPayable is GrossTotal. */
function totalsProblems(invoice: XmlElement, invoiceNo: string): string[] {
  let lines = 0n
  for (const line of childElements(invoice, 'Line')) {
    const amount = childAt(line, 'CreditAmount') ?? childAt(line, 'DebitAmount')
    lines += cents(textOf(amount), `${invoiceNo} line amount`)
  }
  const net = cents(textAt(invoice, 'DocumentTotals', 'NetTotal'), `${invoiceNo} NetTotal`)
  const tax = cents(textAt(invoice, 'DocumentTotals', 'TaxPayable'), `${invoiceNo} TaxPayable`)
  const gross = cents(textAt(invoice, 'DocumentTotals', 'GrossTotal'), `${invoiceNo} GrossTotal`)
  const problems: string[] = []
  if (lines !== net)
    problems.push(`${invoiceNo}: the lines add up to ${format(lines)}, NetTotal is ${format(net)}`)
  if (net + tax !== gross)
    problems.push(
      `${invoiceNo}: NetTotal ${format(net)} + TaxPayable ${format(tax)} is not GrossTotal ${format(gross)}`,
    )
  return problems
}
