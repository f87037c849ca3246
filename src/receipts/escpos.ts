import { encodeCp1252 } from '../core/cp1252.ts'
import type { ReceiptDocument } from './document.ts'
import { type PrinterWidth, printout } from './printout.ts'

const ESC = 0x1b
const GS = 0x1d
const LF = 0x0a

/** GS ( k: the printer's QR code function (cn 49 = QR), with its two-byte parameter length. */
function qrFunction(fn: number, parameters: number[] | Buffer): Buffer {
  const body = Buffer.concat([Buffer.from([49, fn]), Buffer.from(parameters)])
  return Buffer.concat([Buffer.from([GS, 0x28, 0x6b, body.length & 0xff, body.length >> 8]), body])
}

/** QR model 2, module size, error correction M, store the payload, print it. */
function qrCode(payload: string): Buffer {
  const data = Buffer.from(payload, 'utf8')
  return Buffer.concat([
    Buffer.from([ESC, 0x61, 1]),
    qrFunction(65, [50, 0]),
    qrFunction(67, [4]),
    qrFunction(69, [49]),
    qrFunction(80, Buffer.concat([Buffer.from([48]), data])),
    qrFunction(81, [48]),
    Buffer.from([LF, ESC, 0x61, 0]),
  ])
}

/**
 * ESC/POS bytes for a thermal printer of 42 or 48 columns: the same lines as the plain text, in code page
 * 16 (Windows-1252), with the market's QR codes printed by the printer's own QR function, then a cut.
 */
export function renderEscPos(doc: ReceiptDocument, width: PrinterWidth): Buffer {
  const parts: Buffer[] = [Buffer.from([ESC, 0x40, ESC, 0x74, 16])]
  for (const line of printout(doc, width)) {
    if (line.kind === 'qr') {
      parts.push(qrCode(line.payload))
      continue
    }
    if (line.kind === 'rule') {
      parts.push(encodeCp1252('-'.repeat(width)), Buffer.from([LF]))
      continue
    }
    if (line.center) parts.push(Buffer.from([ESC, 0x61, 1]))
    if (line.bold) parts.push(Buffer.from([ESC, 0x45, 1]))
    parts.push(encodeCp1252(line.text), Buffer.from([LF]))
    if (line.bold) parts.push(Buffer.from([ESC, 0x45, 0]))
    if (line.center) parts.push(Buffer.from([ESC, 0x61, 0]))
  }
  // Feed past the tear bar, then a partial cut.
  parts.push(Buffer.from([ESC, 0x64, 4, GS, 0x56, 66, 0]))
  return Buffer.concat(parts)
}
