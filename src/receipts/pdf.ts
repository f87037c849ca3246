import PDFDocument from 'pdfkit'
import { cp1252Safe } from '../core/cp1252.ts'
import type { ReceiptDocument } from './document.ts'
import { darkRuns, QUIET_ZONE, type QrMatrix, qrMatrix } from './qr.ts'

/** 80 mm roll paper, in PDF points. */
const WIDTH = (80 / 25.4) * 72
const MARGIN = 12
const INNER = WIDTH - 2 * MARGIN
const SIZE = 8
const LEADING = 10.5

type Row =
  | { kind: 'text'; text: string; bold?: boolean; center?: boolean; size?: number }
  | { kind: 'pair'; left: string; right: string; bold?: boolean; size?: number }
  | { kind: 'rule' }
  | { kind: 'qr'; matrix: QrMatrix }

const rowHeight = (row: Row, doc: PDFKit.PDFDocument): number => {
  if (row.kind === 'rule') return 6
  if (row.kind === 'qr') return Math.min(INNER, (row.matrix.size + 2 * QUIET_ZONE) * 2.4) + 4
  const size = row.size ?? SIZE
  doc.font(row.bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(size)
  const text = row.kind === 'text' ? row.text : row.left
  const room = row.kind === 'text' ? INNER : INNER - doc.widthOfString(row.right) - 6
  return doc.heightOfString(text, { width: room, lineGap: LEADING - size }) + 1
}

/**
 * The receipt as a PDF on an 80 mm roll page whose height fits the content. The text uses the standard
 * Helvetica fonts (Windows-1252 characters; others print as '?'), the QR codes are vector squares, and the
 * creation date is the receipt's moment, so the same receipt always gives the same bytes.
 */
export function renderPdf(receipt: ReceiptDocument, moment: Date): Promise<Buffer> {
  const rows: Row[] = []
  const l = receipt.labels
  rows.push({ kind: 'text', text: receipt.issuer, bold: true, center: true, size: 11 })
  rows.push({ kind: 'text', text: receipt.title, center: true })
  for (const mark of receipt.marks) rows.push({ kind: 'text', text: mark, bold: true, center: true })
  rows.push({ kind: 'rule' })
  for (const fact of receipt.facts) rows.push({ kind: 'pair', left: fact.label, right: fact.value })
  if (receipt.customer.length > 0) {
    rows.push({ kind: 'rule' }, { kind: 'text', text: l.customer, bold: true })
    for (const line of receipt.customer) rows.push({ kind: 'text', text: line })
  }
  rows.push({ kind: 'rule' })
  for (const line of receipt.lines) {
    const quantity = line.quantity === '1' ? '' : `${line.quantity} x `
    rows.push({
      kind: 'pair',
      left: `${quantity}${line.description}`,
      right: `${line.amount} ${line.vatLetter}`,
    })
  }
  rows.push({ kind: 'rule' })
  rows.push({
    kind: 'pair',
    left: l.total,
    right: `${receipt.total} ${receipt.currency}`,
    bold: true,
    size: 11,
  })
  if (receipt.vat.length > 0) {
    rows.push({ kind: 'rule' })
    for (const v of receipt.vat) {
      rows.push({
        kind: 'pair',
        left: `${v.letter} ${l.vat} ${v.rate}`,
        right: `${l.net} ${v.net}  ${l.vat} ${v.vat}  ${l.gross} ${v.gross}`,
      })
    }
  }
  if (receipt.payments.length > 0) {
    rows.push({ kind: 'rule' }, { kind: 'text', text: l.payments, bold: true })
    for (const p of receipt.payments) {
      rows.push({ kind: 'pair', left: p.description, right: p.amount })
      if (p.detail) rows.push({ kind: 'text', text: p.detail, size: 7 })
    }
  }
  for (const t of receipt.texts) {
    rows.push(
      { kind: 'rule' },
      { kind: 'text', text: t.caption, bold: true },
      { kind: 'text', text: t.data, size: 6 },
    )
  }
  for (const qr of receipt.qrCodes) {
    rows.push({ kind: 'rule' }, { kind: 'text', text: qr.caption, center: true })
    rows.push({ kind: 'qr', matrix: qrMatrix(qr.payload) })
  }
  rows.push({ kind: 'rule' })
  for (const line of receipt.footer) rows.push({ kind: 'text', text: line, center: true, size: 6.5 })
  const safe = rows.map((row): Row => {
    if (row.kind === 'text') return { ...row, text: cp1252Safe(row.text) }
    if (row.kind === 'pair') return { ...row, left: cp1252Safe(row.left), right: cp1252Safe(row.right) }
    return row
  })

  const pdf = new PDFDocument({
    autoFirstPage: false,
    margin: MARGIN,
    compress: true,
    info: {
      Title: cp1252Safe(`${receipt.title} ${receipt.facts[0]?.value ?? ''}`),
      Author: cp1252Safe(receipt.issuer),
      Producer: 'fiscalbox',
      Creator: 'fiscalbox',
      CreationDate: moment,
      ModDate: moment,
    },
  })
  const heights = safe.map((row) => rowHeight(row, pdf))
  const height = heights.reduce((sum, h) => sum + h, 0) + 2 * MARGIN
  pdf.addPage({ size: [WIDTH, Math.ceil(height)], margin: MARGIN })
  let y = MARGIN
  for (const [i, row] of safe.entries()) {
    const h = heights[i] as number
    if (row.kind === 'rule') {
      pdf
        .moveTo(MARGIN, y + 3)
        .lineTo(WIDTH - MARGIN, y + 3)
        .lineWidth(0.5)
        .stroke('#000')
    } else if (row.kind === 'qr') {
      const side = row.matrix.size + 2 * QUIET_ZONE
      const module = (h - 4) / side
      const x0 = (WIDTH - side * module) / 2 + QUIET_ZONE * module
      const y0 = y + 2 + QUIET_ZONE * module
      for (const [r, c, length] of darkRuns(row.matrix)) {
        pdf.rect(x0 + c * module, y0 + r * module, length * module, module)
      }
      pdf.fill('#000')
    } else if (row.kind === 'text') {
      pdf.font(row.bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(row.size ?? SIZE)
      pdf.text(row.text, MARGIN, y, {
        width: INNER,
        align: row.center ? 'center' : 'left',
        lineGap: LEADING - (row.size ?? SIZE),
      })
    } else {
      const size = row.size ?? SIZE
      pdf.font(row.bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(size)
      const rightWidth = pdf.widthOfString(row.right)
      const room = INNER - rightWidth - 6
      pdf.text(row.left, MARGIN, y, { width: room, lineGap: LEADING - size })
      const leftHeight = pdf.heightOfString(row.left, { width: room, lineGap: LEADING - size })
      pdf.text(row.right, WIDTH - MARGIN - rightWidth, y + leftHeight - LEADING, { lineBreak: false })
    }
    y += h
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk))
    pdf.on('end', () => resolve(Buffer.concat(chunks)))
    pdf.on('error', reject)
    pdf.end()
  })
}
