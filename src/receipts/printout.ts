import type { ReceiptDocument } from './document.ts'

/** A receipt printer's line: text in a fixed-width font, a rule, or a QR code. */
export type PrintLine =
  | { kind: 'text'; text: string; bold?: boolean; center?: boolean }
  | { kind: 'rule' }
  | { kind: 'qr'; payload: string; caption: string }

export const PRINTER_WIDTHS = [42, 48] as const
export type PrinterWidth = (typeof PRINTER_WIDTHS)[number]

const length = (text: string) => [...text].length

/** Splits text into lines of at most `width` characters, at spaces where possible. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let rest = word
    while (length(rest) > width) {
      if (line) {
        lines.push(line)
        line = ''
      }
      lines.push([...rest].slice(0, width).join(''))
      rest = [...rest].slice(width).join('')
    }
    if (!line) line = rest
    else if (length(line) + 1 + length(rest) <= width) line += ` ${rest}`
    else {
      lines.push(line)
      line = rest
    }
  }
  if (line) lines.push(line)
  return lines.length > 0 ? lines : ['']
}

/** Left text and right text on one line; a long left part wraps, the right part ends the last line. */
function columns(left: string, right: string, width: number): string[] {
  const room = width - length(right) - 1
  // A right part too wide to share a line goes right-aligned under the left one.
  if (room < Math.min(length(left), 12)) {
    return [...wrap(left, width), ...wrap(right, width).map((r) => ' '.repeat(width - length(r)) + r)]
  }
  const lines = wrap(left, room)
  const last = lines.pop() ?? ''
  return [...lines, last + ' '.repeat(width - length(last) - length(right)) + right]
}

/**
 * The receipt laid out for a printer of 42 or 48 columns. The plain text and the ESC/POS renderers both
 * print exactly these lines; only the QR code differs (its payload as text, or the printer's QR command).
 */
export function printout(doc: ReceiptDocument, width: PrinterWidth): PrintLine[] {
  const out: PrintLine[] = []
  const text = (t: string, options: { bold?: boolean; center?: boolean } = {}) => {
    for (const line of wrap(t, width)) out.push({ kind: 'text', text: line, ...options })
  }
  const pair = (left: string, right: string, bold = false) => {
    for (const line of columns(left, right, width))
      out.push({ kind: 'text', text: line, ...(bold ? { bold } : {}) })
  }
  text(doc.issuer, { bold: true, center: true })
  text(doc.title, { center: true })
  for (const mark of doc.marks) text(`*** ${mark} ***`, { bold: true, center: true })
  out.push({ kind: 'rule' })
  for (const fact of doc.facts) pair(`${fact.label}:`, fact.value)
  if (doc.customer.length > 0) {
    out.push({ kind: 'rule' })
    text(`${doc.labels.customer}:`)
    for (const line of doc.customer) text(line)
  }
  out.push({ kind: 'rule' })
  for (const line of doc.lines) {
    const quantity = line.quantity === '1' ? '' : `${line.quantity} x `
    pair(`${quantity}${line.description}`, `${line.amount} ${line.vatLetter}`)
  }
  out.push({ kind: 'rule' })
  pair(doc.labels.total, `${doc.total} ${doc.currency}`, true)
  if (doc.vat.length > 0) {
    out.push({ kind: 'rule' })
    for (const v of doc.vat) {
      pair(
        `${v.letter} ${doc.labels.vat} ${v.rate}`,
        `${doc.labels.net} ${v.net}  ${doc.labels.vat} ${v.vat}`,
      )
    }
  }
  if (doc.payments.length > 0) {
    out.push({ kind: 'rule' })
    text(`${doc.labels.payments}:`)
    for (const payment of doc.payments) {
      pair(payment.description, payment.amount)
      if (payment.detail) text(`  ${payment.detail}`)
    }
  }
  for (const signature of doc.texts) {
    out.push({ kind: 'rule' })
    text(`${signature.caption}:`)
    text(signature.data)
  }
  for (const qr of doc.qrCodes) {
    out.push({ kind: 'rule' })
    text(qr.caption, { center: true })
    out.push({ kind: 'qr', payload: qr.payload, caption: qr.caption })
  }
  out.push({ kind: 'rule' })
  for (const line of doc.footer) text(line, { center: true })
  return out
}

const centered = (text: string, width: number) => {
  const pad = Math.max(0, Math.floor((width - length(text)) / 2))
  return ' '.repeat(pad) + text
}

/** Plain text for a printer without graphics: the QR code's payload is printed as text. */
export function renderText(doc: ReceiptDocument, width: PrinterWidth): string {
  const lines: string[] = []
  for (const line of printout(doc, width)) {
    if (line.kind === 'rule') lines.push('-'.repeat(width))
    else if (line.kind === 'qr') lines.push(...wrap(line.payload, width))
    else lines.push(line.center ? centered(line.text, width) : line.text)
  }
  return `${lines.map((l) => l.trimEnd()).join('\n')}\n`
}
