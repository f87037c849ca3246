import assert from 'node:assert/strict'
import { createHash, createPublicKey, randomUUID, verify } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import tarStream from 'tar-stream'
import type { CreatedCashbox } from '../../../src/core/cashboxes.ts'
import { parseReceiptQr } from '../../../src/markets/de/dsfinvk/receipt-qr.ts'
import { signedBytes } from '../../verify/tss-export/fixtures.ts'

/**
 * A POS talking to a German cash box through the public HTTP interface only. Case codes are written out
 * from the POS System API v2 layout (country DE = 0x4445, version 2), not taken from src/.
 */
export const DE_CASE = {
  pos: '0x4445200000000001',
  posImplicit: '0x4445200100000001',
  training: '0x4445200100020001',
  void: '0x4445200100040001',
  zero: '0x4445200000002000',
  daily: '0x4445200000002011',
  start: '0x4445200000004001',
  stop: '0x4445200000004002',
  txStart: '0x4445200000003008',
  txUpdate: '0x4445200000003009',
  txDelta: '0x444520000000300A',
  txFail: '0x444520000000300B',
  order: '0x4445200100003004',
} as const

/** ftChargeItemCase VAT nibbles: 3 normal 19 %, 1 discounted-1 7 %, 4 10.7 %, 2 5.5 %, 7 zero, 8 not taxable. */
export const VAT = {
  normal: { case: '0x4445200000000003', rate: 19 },
  reduced: { case: '0x4445200000000001', rate: 7 },
  special1: { case: '0x4445200000000004', rate: 10.7 },
  special2: { case: '0x4445200000000002', rate: 5.5 },
  zero: { case: '0x4445200000000007', rate: 0 },
} as const

export const PAY = { cash: '0x4445200000000001', card: '0x4445200000000005' } as const

export interface Reply {
  status: number
  payload: string
  headers: Record<string, unknown>
  raw: Buffer
  json(): any
}

export class DePos {
  constructor(
    readonly app: FastifyInstance,
    readonly box: CreatedCashbox,
  ) {}

  async request(method: 'GET' | 'PUT' | 'POST', url: string, body?: unknown): Promise<Reply> {
    const r = await this.app.inject({
      method,
      url,
      headers: {
        'x-cashbox-id': this.box.cashboxId,
        'x-cashbox-accesstoken': this.box.accessToken,
        'content-type': 'application/json',
        ...(url === '/v2/sign' ? { 'x-operation-id': randomUUID() } : {}),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    })
    return {
      status: r.statusCode,
      payload: r.payload,
      headers: r.headers,
      raw: r.rawPayload,
      json: () => r.json(),
    }
  }

  sign(body: unknown): Promise<Reply> {
    return this.request('POST', '/v2/sign', body)
  }

  async signOk(body: unknown): Promise<any> {
    const reply = await this.sign(body)
    assert.equal(reply.status, 200, `expected 200 from /v2/sign, got ${reply.status}: ${reply.payload}`)
    return reply.json()
  }
}

let counter = 0

export interface Item {
  amount: string
  vat: (typeof VAT)[keyof typeof VAT]
  text?: string
  quantity?: number
}

export function deReceipt(
  caseCode: string,
  items: Item[] = [],
  pays: Array<{ amount: string; case?: string; currency?: string; quantity?: number }> = [],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    cbReceiptReference: `R-${++counter}`,
    cbReceiptMoment: new Date().toISOString(),
    ftReceiptCase: caseCode,
    cbChargeItems: items.map((item, i) => ({
      Quantity: item.quantity ?? 1,
      Description: item.text ?? `Artikel ${i + 1}`,
      Amount: item.amount,
      VATRate: item.vat.rate,
      ftChargeItemCase: item.vat.case,
    })),
    cbPayItems: pays.map((p) => ({
      Description: p.case === PAY.card ? 'Karte' : 'Bar',
      Amount: p.amount,
      ftPayItemCase: p.case ?? PAY.cash,
      ...(p.currency ? { Currency: p.currency, Quantity: p.quantity } : {}),
    })),
    ...extra,
  }
}

/** Signature items by caption. */
export const signatureData = (response: any, caption: string): string | undefined =>
  response.ftSignatures.find((s: any) => s.Caption === caption)?.Data

export const qrOf = (response: any): string | undefined =>
  response.ftSignatures.find((s: any) => s.ftSignatureFormat === '0x0000000000000003')?.Data

export const stateLow = (response: any): bigint => BigInt(response.ftState) & 0xffff_ffffn

/**
 * What a tax auditor's app does: rebuild the Finish log's signed bytes (TR-03151, built by the test
 * fixtures, not by the producer) from the QR code alone and verify the signature with its public key.
 */
export function qrSelfVerifies(text: string): boolean {
  const qr = parseReceiptQr(text)
  const signed = signedBytes(
    { curve: 'P-256', serialNumber: createHash('sha256').update(qr.publicKey).digest() },
    {
      kind: 'transaction',
      operationType: 'FinishTransaction',
      clientId: qr.clientSerial,
      processData: qr.processData,
      processType: qr.processType,
      transactionNumber: Number(qr.transactionNumber),
      counter: Number(qr.signatureCounter),
      logTime: qr.endTime,
    },
  )
  const half = (qr.publicKey.length - 1) / 2
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: qr.publicKey.subarray(1, 1 + half).toString('base64url'),
      y: qr.publicKey.subarray(1 + half).toString('base64url'),
    },
    format: 'jwk',
  })
  return verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, qr.signature)
}

/** Reads an archive with tar-stream, an implementation independent of ours. */
export async function untar(tar: Buffer): Promise<Map<string, Buffer>> {
  const extract = tarStream.extract()
  const found = new Map<string, Buffer>()
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = []
      for await (const part of entry) parts.push(part as Buffer)
      found.set(entry.header.name, Buffer.concat(parts))
    }
  })()
  extract.end(tar)
  await done
  return found
}

/**
 * A DSFinV-K CSV file: header and records, split on ';' outside quotes, quotes removed; `quoted` says
 * which cells were written in quotes (AlphaNumeric values are, Numeric values are not).
 */
export function parseCsv(data: Buffer): {
  header: string[]
  rows: string[][]
  quoted: boolean[][]
  text: string
} {
  const text = data.toString('utf8')
  const records = text.split('\r\n')
  assert.equal(records.pop(), '', 'every record ends with CRLF')
  const split = (line: string) => {
    const cells: string[] = []
    const quotedCells: boolean[] = []
    let current = ''
    let quoted = false
    let wasQuoted = false
    for (let i = 0; i < line.length; i++) {
      const c = line[i] as string
      if (quoted) {
        if (c === '"' && line[i + 1] === '"') {
          current += '"'
          i++
        } else if (c === '"') quoted = false
        else current += c
      } else if (c === '"') {
        quoted = true
        wasQuoted = true
      } else if (c === ';') {
        cells.push(current)
        quotedCells.push(wasQuoted)
        current = ''
        wasQuoted = false
      } else current += c
    }
    cells.push(current)
    quotedCells.push(wasQuoted)
    return { cells, quotedCells }
  }
  const [header = '', ...rows] = records
  const parsed = rows.map(split)
  return {
    header: header.split(';'),
    rows: parsed.map((r) => r.cells),
    quoted: parsed.map((r) => r.quotedCells),
    text,
  }
}
