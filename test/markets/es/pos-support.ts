import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import type { CreatedCashbox } from '../../../src/core/cashboxes.ts'
import { eventually } from '../../api-v1/support.ts'

/**
 * A POS and an operator talking to a Spanish cash box through HTTP only. Case codes are built here from
 * the POS System API v2 layout (country ES = 0x4553, version 2), and the identifier and QR rules are
 * checked with a CRC-8 written here from the published rule, not taken from src/. Not a test file itself.
 */
export const ES_CASE = {
  pos: '0x4553200000000001',
  training: '0x4553200000020001',
  voidPos: '0x4553200000040001',
  refundPos: '0x4553200001000001',
  b2c: '0x4553200000001001',
  b2b: '0x4553200000001002',
  voidB2b: '0x4553200000041002',
  refundB2b: '0x4553200001001002',
  zero: '0x4553200000002000',
  daily: '0x4553200000002011',
  start: '0x4553200000004001',
} as const

/** VAT codes of ftChargeItemCase (low nibble): normal 3, discounted-1 1, super-reduced-1 4, zero 7. */
export const VAT = { normal: 0x3, reduced: 0x1, superReduced: 0x4, zero: 0x7, unknown: 0x0 } as const
export const itemCase = (vat: number) => `0x45532000000000${vat.toString(16).padStart(2, '0').toUpperCase()}`

export const MOMENT = '2026-03-09T10:15:00.000Z'

export interface Line {
  amount: string
  vat: number
  code?: number
  quantity?: number
  vatAmount?: string
  description?: string
}

export function esReceipt(
  caseCode: string,
  lines: Line[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const total = lines.reduce((sum, l) => sum + Math.round(Number(l.amount) * 100), 0)
  return {
    cbReceiptReference: `ES-${randomUUID().slice(0, 13)}`,
    cbReceiptMoment: MOMENT,
    ftReceiptCase: caseCode,
    cbChargeItems: lines.map((l, i) => ({
      Quantity: l.quantity ?? 1,
      Description: l.description ?? `Artículo ${i + 1}`,
      Amount: l.amount,
      VATRate: l.vat,
      ftChargeItemCase: itemCase(l.code ?? VAT.normal),
      ...(l.vatAmount ? { VATAmount: l.vatAmount } : {}),
    })),
    cbPayItems:
      lines.length === 0
        ? []
        : [
            {
              Description: 'Efectivo',
              Amount: (total / 100).toFixed(2),
              ftPayItemCase: '0x4553200000000001',
            },
          ],
    ...extra,
  }
}

export const CUSTOMER = {
  CustomerName: 'Cliente Ejemplo SA',
  CustomerVATId: 'ESA58818501',
  CustomerStreet: 'Calle Mayor 1',
  CustomerZip: '20001',
  CustomerCity: 'Donostia',
}

export interface Reply {
  status: number
  payload: string
  json(): any
}

export class EsPos {
  constructor(
    readonly app: FastifyInstance,
    readonly box: CreatedCashbox,
  ) {}

  async request(
    method: 'GET' | 'PUT' | 'POST',
    url: string,
    body?: unknown,
    operationId?: string,
  ): Promise<Reply> {
    const r = await this.app.inject({
      method,
      url,
      headers: {
        'x-cashbox-id': this.box.cashboxId,
        'x-cashbox-accesstoken': this.box.accessToken,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(url === '/v2/sign' ? { 'x-operation-id': operationId ?? randomUUID() } : {}),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    })
    return { status: r.statusCode, payload: r.payload, json: () => r.json() }
  }

  async configure(body: unknown): Promise<any> {
    const reply = await this.request('PUT', '/es/v1/cashbox', body)
    assert.equal(reply.status, 200, reply.payload)
    return reply.json()
  }

  sign(body: unknown, operationId?: string): Promise<Reply> {
    return this.request('POST', '/v2/sign', body, operationId)
  }

  async signOk(body: unknown): Promise<any> {
    const reply = await this.sign(body)
    assert.equal(reply.status, 200, `expected 200 from /v2/sign, got ${reply.status}: ${reply.payload}`)
    return reply.json()
  }

  async start(): Promise<void> {
    await this.signOk(esReceipt(ES_CASE.start, []))
  }

  async records(query = ''): Promise<any[]> {
    const reply = await this.request('GET', `/es/v1/records?limit=1000${query}`)
    assert.equal(reply.status, 200, reply.payload)
    return reply.json().records
  }

  /** Waits until no record of the cash box is pending any more. */
  settled(limitMs = 60_000): Promise<any[]> {
    return eventually(
      () => this.records(),
      (records) => records.every((r) => r.status !== 'pending'),
      'every Spanish record to be answered',
      limitMs,
    )
  }
}

/** CRC-8, polynomial 0x07, init 0, no reflection, no final XOR, as 3 decimal digits (the TicketBAI rule). */
export function crc8(text: string): string {
  let crc = 0
  for (const byte of Buffer.from(text, 'ascii')) {
    crc ^= byte
    for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff
  }
  return String(crc).padStart(3, '0')
}

const vectors = JSON.parse(readFileSync('/work/shared/vectors/es/ticketbai-vectors.json', 'utf8'))
const verifactuVectors = JSON.parse(readFileSync('/work/shared/vectors/es/verifactu-vectors.json', 'utf8'))
export const TBAI_QR_BASES: Record<string, string> = {
  araba: vectors.qr.bases.Araba,
  bizkaia: vectors.qr.bases.Bizkaia,
  gipuzkoa: vectors.qr.bases.Gipuzkoa,
}
export const VERIFACTU_TEST_QR: string = verifactuVectors.qr.bases.VERIFACTU_test

/** The TBAI identifier rule: TBAI-{NIF}-{DDMMYY}-{13 chars of the signature value}-{CRC-8}. */
export function checkTbaiIdentifier(identifier: string, nif: string, ddmmyy: string): void {
  const match = /^(TBAI-([0-9A-Z]{9})-(\d{6})-([A-Za-z0-9+/=]{13})-)(\d{3})$/.exec(identifier)
  assert.ok(match, `TBAI identifier format: ${identifier}`)
  assert.equal(match[2], nif)
  assert.equal(match[3], ddmmyy)
  assert.equal(match[5], crc8(match[1] as string), 'CRC-8 of the identifier')
}

/** The TicketBAI QR rule: base?id=&s=&nf=&i=&cr= with cr the CRC-8 of everything before `&cr=`. */
export function checkTbaiQr(
  url: string,
  territory: string,
  identifier: string,
  series: string,
  number: string,
  total: string,
): void {
  const base = TBAI_QR_BASES[territory] as string
  assert.ok(url.startsWith(`${base}?`), `QR base of ${territory}: ${url}`)
  const [head, cr] = url.split('&cr=')
  assert.equal(cr, crc8(head as string), 'CRC-8 of the QR URL')
  const params = new URL(url).searchParams
  assert.equal(params.get('id'), identifier)
  assert.equal(params.get('s'), series)
  assert.equal(params.get('nf'), number)
  assert.equal(params.get('i'), total)
}
