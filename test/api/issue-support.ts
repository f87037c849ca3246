import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireTool } from '../helpers/system-tools.ts'
import type { Pos, Reply } from './support.ts'

/** POST /v2/issue with the receipt as the journal stored it (the QueueItem entry's request). */
export async function issue(pos: Pos, request: unknown, response: unknown): Promise<Reply> {
  return pos.post('/v2/issue', { ReceiptRequest: request, ReceiptResponse: response })
}

/** Signs a receipt and issues it; returns the signed response and the document path (/r/...). */
export async function signAndIssue(pos: Pos, body: Record<string, unknown>) {
  const signed = await pos.signOk(body)
  const reply = await issue(pos, body, signed.response)
  assert.equal(reply.status, 200, reply.payload)
  const issued = reply.json()
  return { signed: signed.response, issued, path: new URL(issued.DocumentURL).pathname }
}

export async function fetchDocument(
  pos: Pos,
  path: string,
): Promise<{ status: number; type: string; body: Buffer }> {
  const response = await pos.app.inject({ method: 'GET', url: path })
  return {
    status: response.statusCode,
    type: String(response.headers['content-type']),
    body: response.rawPayload,
  }
}

/** HTML as the text a reader sees: tags dropped, character references decoded. */
export const htmlText = (html: string): string =>
  html
    .replace(/<style[^>]*>[\s\S]*?<\/style>/g, ' ')
    .replace(/<svg[\s\S]*?<\/svg>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/\s+/g, ' ')

/** The PDF's text as poppler's pdftotext extracts it (an independent PDF reader). */
export function pdfText(pdf: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-pdf-'))
  try {
    const file = join(dir, 'receipt.pdf')
    writeFileSync(file, pdf)
    return execFileSync(requireTool('pdftotext'), ['-layout', '-enc', 'UTF-8', file, '-'], {
      encoding: 'utf8',
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The PDF's first page as a PNG, rasterized by poppler's pdftoppm at 300 dpi. */
export function pdfImage(pdf: Buffer): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-pdf-'))
  try {
    const file = join(dir, 'receipt.pdf')
    writeFileSync(file, pdf)
    execFileSync(requireTool('pdftoppm'), ['-r', '300', '-png', '-singlefile', file, join(dir, 'page')])
    return readFileSync(join(dir, 'page.png'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Windows-1252 high characters used in the suites' texts (the rest is Latin-1). */
const CP1252: Record<number, string> = { 0x80: '€' }

/**
 * Reads ESC/POS bytes as a printer would, written from the Epson command reference: the printed text and
 * the payloads stored with GS ( k (cn 49, fn 80).
 */
export function readEscPos(bytes: Buffer): { text: string; qrPayloads: string[]; cut: boolean } {
  let text = ''
  const qrPayloads: string[] = []
  let cut = false
  for (let i = 0; i < bytes.length; ) {
    const byte = bytes[i] as number
    if (byte === 0x1b) {
      const command = bytes[i + 1]
      i += command === 0x40 ? 2 : 3 // ESC @ has no parameter; ESC t/a/E/d have one.
    } else if (byte === 0x1d && bytes[i + 1] === 0x28 && bytes[i + 2] === 0x6b) {
      const length = (bytes[i + 3] as number) + ((bytes[i + 4] as number) << 8)
      const body = bytes.subarray(i + 5, i + 5 + length)
      if (body[0] === 49 && body[1] === 80 && body[2] === 48)
        qrPayloads.push(body.subarray(3).toString('utf8'))
      i += 5 + length
    } else if (byte === 0x1d && bytes[i + 1] === 0x56) {
      cut = true
      i += 4
    } else {
      text += byte >= 0x80 && byte < 0xa0 ? (CP1252[byte] ?? '?') : String.fromCharCode(byte)
      i += 1
    }
  }
  return { text, qrPayloads, cut }
}
