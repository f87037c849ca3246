import assert from 'node:assert/strict'
import { createHash, createPublicKey, randomUUID, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import type { CreatedCashbox } from '../../src/core/cashboxes.ts'
import type { Harness } from '../helpers/harness.ts'

/**
 * Shared vocabulary of the POS System API v2 suites. Case codes and expected values are computed here from
 * the reference layout (CCCC_vlll_gggg_xxxx), not taken from src/, so that a wrong constant in the server
 * shows up as a failing test.
 */

export const RECEIPT_CASE = {
  unknown: 0x0000n,
  pos: 0x0001n,
  zero: 0x2000n,
  daily: 0x2011n,
  monthly: 0x2012n,
  yearly: 0x2013n,
  start: 0x4001n,
  stop: 0x4002n,
} as const

export const FLAG = { training: 0x2_0000n, void: 0x4_0000n, refund: 0x100_0000n } as const

/** 'EU' -> 0x4555: the two ASCII letters. */
export const countryBits = (iso: string): bigint =>
  (BigInt(iso.charCodeAt(0)) << 8n) | BigInt(iso.charCodeAt(1))

/** A v2 case code (country, version 2, flags and case) as a bigint. */
export const code = (iso: string, low: bigint): bigint => (countryBits(iso) << 48n) | (2n << 44n) | low

/** The hex form used on the wire and in responses: 0x + 16 upper-case digits. */
export const hex = (value: bigint): string => `0x${value.toString(16).toUpperCase().padStart(16, '0')}`

export const caseHex = (iso: string, low: bigint): string => hex(code(iso, low))

/** ftState values of the reference: 0 ok, 0x1 out of operation, 0xEEEE_EEEE error. */
export const stateHex = (iso: string, state: bigint): string => hex(code(iso, state))

export const MOMENT = '2024-03-29T10:15:00.000Z'

/** The version package.json declares: what the server must report as its own. */
export const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version

export interface ChargeLine {
  amount: number | string
  vat?: number | string
  quantity?: number | string
  description?: string
  caseCode?: string | number
}

export interface PayLine {
  amount: number | string
  caseCode?: string | number
  description?: string
}

export interface ReceiptOptions {
  country?: string
  /** Low part (flags | case) of ftReceiptCase, stamped with the country; ignored when `ftReceiptCase` is set. */
  low?: bigint
  ftReceiptCase?: unknown
  reference?: string
  charges?: ChargeLine[]
  pays?: PayLine[]
  extra?: Record<string, unknown>
}

let referenceCounter = 0
export const nextReference = (prefix = 'R'): string =>
  `${prefix}-${++referenceCounter}-${randomUUID().slice(0, 8)}`

/** A ReceiptRequest body; by default a POS receipt of 10.00 at 20 % paid in cash. */
export function receipt(options: ReceiptOptions = {}): Record<string, unknown> {
  const country = options.country ?? 'EU'
  const charges = options.charges ?? [{ amount: 10, vat: 20 }]
  const pays: PayLine[] = options.pays ?? charges.map((c) => ({ amount: c.amount }))
  return {
    cbReceiptReference: options.reference ?? nextReference(),
    cbReceiptMoment: MOMENT,
    ftReceiptCase:
      'ftReceiptCase' in options ? options.ftReceiptCase : caseHex(country, options.low ?? RECEIPT_CASE.pos),
    cbChargeItems: charges.map((c, i) => ({
      Quantity: c.quantity ?? 1,
      Description: c.description ?? `item ${i + 1}`,
      Amount: c.amount,
      VATRate: c.vat ?? 20,
      ...(c.caseCode === undefined ? {} : { ftChargeItemCase: c.caseCode }),
    })),
    cbPayItems: pays.map((p) => ({
      Description: p.description ?? 'cash',
      Amount: p.amount,
      ...(p.caseCode === undefined ? {} : { ftPayItemCase: p.caseCode }),
    })),
    ...options.extra,
  }
}

/** A receipt without items, for start, stop, zero and closing receipts. */
export const specialReceipt = (low: bigint, country = 'EU', extra: Record<string, unknown> = {}) =>
  receipt({ country, low, charges: [], pays: [], extra })

export interface Reply {
  status: number
  headers: Record<string, string | string[] | number | undefined>
  payload: string
  json(): any
}

export interface SignOptions {
  operationId?: string
  /** Extra or replacing headers; a value of undefined removes the header. */
  headers?: Record<string, string | undefined>
  /** Send this exact body instead of JSON.stringify(body). */
  raw?: string | Buffer
}

/**
 * JSON as a careful JavaScript client reads it: an integer of 16 or more digits (a 64-bit case code
 * answered as a number) becomes a string of its exact digits, which a double would round.
 */
export const parseExactJson = (text: string): any =>
  JSON.parse(
    text.replace(/"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/g, (token) =>
      token.startsWith('"') ? token : `"${token}"`,
    ),
  )

const toReply = (r: {
  statusCode: number
  headers: Record<string, string | string[] | number | undefined>
  payload: string
}): Reply => ({
  status: r.statusCode,
  headers: r.headers,
  payload: r.payload,
  json: () => parseExactJson(r.payload),
})

/** A POS talking to one cash box through the HTTP interface only. */
export class Pos {
  constructor(
    readonly app: FastifyInstance,
    readonly box: CreatedCashbox,
  ) {}

  get queueId(): string {
    return this.box.queueId
  }

  headers(extra: Record<string, string | undefined> = {}): Record<string, string> {
    const all: Record<string, string | undefined> = {
      'x-cashbox-id': this.box.cashboxId,
      'x-cashbox-accesstoken': this.box.accessToken,
      'content-type': 'application/json',
      ...extra,
    }
    return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >
  }

  async sign(body: unknown, options: SignOptions = {}): Promise<Reply> {
    const response = await this.app.inject({
      method: 'POST',
      url: '/v2/sign',
      headers: this.headers({ 'x-operation-id': options.operationId ?? randomUUID(), ...options.headers }),
      payload: options.raw ?? JSON.stringify(body),
    })
    return toReply(response)
  }

  /** Signs and insists on 200; returns the parsed response with its exact bytes. */
  async signOk(body: unknown, options: SignOptions = {}): Promise<{ payload: string; response: any }> {
    const reply = await this.sign(body, options)
    assert.equal(reply.status, 200, `expected 200 from /v2/sign, got ${reply.status}: ${reply.payload}`)
    return { payload: reply.payload, response: reply.json() }
  }

  async get(url: string, headers: Record<string, string | undefined> = {}): Promise<Reply> {
    return toReply(await this.app.inject({ method: 'GET', url, headers: this.headers(headers) }))
  }

  async post(url: string, body: unknown): Promise<Reply> {
    return toReply(
      await this.app.inject({ method: 'POST', url, headers: this.headers(), payload: JSON.stringify(body) }),
    )
  }

  async postRaw(url: string, text: string): Promise<Reply> {
    return toReply(await this.app.inject({ method: 'POST', url, headers: this.headers(), payload: text }))
  }

  journalUrl(type: JournalType, query = '', queueId = this.queueId): string {
    return `/v2/journal/${queueId}/${type}${query}`
  }

  /** The whole journal of a type (one page of up to 10000 entries: the suites stay far below). */
  async journal(type: JournalType): Promise<any[]> {
    const reply = await this.get(this.journalUrl(type, '?limit=10000'))
    assert.equal(reply.status, 200, reply.payload)
    return reply.json()
  }

  /** Exact texts of every journal: comparing two snapshots proves that nothing was written in between. */
  async snapshot(): Promise<Snapshot> {
    const texts = await Promise.all(
      JOURNAL_TYPES.map(async (type) => {
        const reply = await this.get(this.journalUrl(type, '?limit=10000'))
        assert.equal(reply.status, 200, reply.payload)
        return reply.payload
      }),
    )
    return {
      queueItems: texts[0] as string,
      receipts: texts[1] as string,
      actions: texts[2] as string,
      counts: texts.map((t) => (JSON.parse(t) as unknown[]).length),
    }
  }
}

export type JournalType = 'QueueItem' | 'ReceiptJournal' | 'ActionJournal'
export const JOURNAL_TYPES: JournalType[] = ['QueueItem', 'ReceiptJournal', 'ActionJournal']

export interface Snapshot {
  queueItems: string
  receipts: string
  actions: string
  counts: number[]
}

export function assertNothingWritten(before: Snapshot, after: Snapshot, label = ''): void {
  assert.deepEqual(after.counts, before.counts, `journal lengths changed ${label}`)
  assert.equal(after.queueItems, before.queueItems, `QueueItem journal changed ${label}`)
  assert.equal(after.receipts, before.receipts, `ReceiptJournal changed ${label}`)
  assert.equal(after.actions, before.actions, `ActionJournal changed ${label}`)
}

/** A new cash box of the country, as a POS client; an Austrian one is provisioned with one device. */
export async function newPos(harness: Harness, country = 'EU'): Promise<Pos> {
  const pos = new Pos(harness.app, await harness.runtime.cashboxes.create(country))
  if (country === 'AT') {
    const reply = await harness.app.inject({
      method: 'PUT',
      url: '/at/v1/cashbox',
      headers: pos.headers(),
      payload: {
        kassenId: `KASSE-${pos.box.cashboxId.slice(0, 8)}`,
        companyId: 'U:ATU12345678',
        devices: [{ number: 0 }],
      },
    })
    assert.equal(reply.statusCode, 200, reply.payload)
  }
  return pos
}

/** A new cash box whose queue has been started with a start receipt. */
export async function startedPos(harness: Harness, country = 'EU'): Promise<Pos> {
  const pos = await newPos(harness, country)
  const { response } = await pos.signOk(specialReceipt(RECEIPT_CASE.start, country))
  assert.equal(response.ftState, stateHex(country, 0n))
  return pos
}

/**
 * Asserts a problem document (RFC 9457 with the reference's error/message members) of the status; with a
 * field, also that details name it.
 */
export function assertProblem(reply: Reply, status: number, field?: string | RegExp): any {
  assert.equal(reply.status, status, `expected ${status}, got ${reply.status}: ${reply.payload}`)
  assert.match(String(reply.headers['content-type']), /^application\/problem\+json/)
  const body = reply.json()
  assert.equal(body.status, status)
  assert.equal(typeof body.type, 'string')
  assert.equal(typeof body.title, 'string')
  assert.equal(typeof body.detail, 'string')
  assert.equal(typeof body.error, 'string')
  assert.ok(body.message.length > 0, 'message must not be empty')
  if (field !== undefined) {
    assert.equal(typeof body.details, 'object', `details missing: ${reply.payload}`)
    if (typeof field === 'string') assert.equal(body.details.field, field, reply.payload)
    else assert.match(body.details.field, field)
    assert.equal(typeof body.details.reason, 'string')
    assert.ok(body.details.reason.length > 0, 'details.reason must not be empty')
  }
  return body
}

export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

export interface QrCode {
  prefix: string
  queueId: string
  receiptNumber: number
  moment: string
  total: string
  previousHash: string
  signature: string
  signed: string
}

/** Splits the generic market's QR payload: the signature is everything after the sixth underscore. */
export function parseQr(data: string): QrCode {
  const parts = data.split('_')
  assert.ok(parts.length >= 7, `QR payload has too few fields: ${data}`)
  const [prefix, queueId, number, moment, total, previousHash] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ]
  return {
    prefix,
    queueId,
    receiptNumber: Number(number),
    moment,
    total,
    previousHash,
    signature: parts.slice(6).join('_'),
    signed: parts.slice(0, 6).join('_'),
  }
}

/** ECDSA P-256 / SHA-256 over the signed part, IEEE P1363 signature, public key as base64 SPKI DER. */
export function qrSignatureValid(publicKeySpkiBase64: string, signed: string, signature: string): boolean {
  const key = createPublicKey({
    key: Buffer.from(publicKeySpkiBase64, 'base64'),
    format: 'der',
    type: 'spki',
  })
  return verify(
    'sha256',
    Buffer.from(signed, 'utf8'),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  )
}

/** The receipt signature (format QR code 0x3) of a signed response. */
export function qrSignatureOf(response: any): {
  ftSignatureFormat: string
  ftSignatureType: string
  Data: string
} {
  const qr = response.ftSignatures.filter((s: any) => BigInt(s.ftSignatureFormat) === 0x3n)
  assert.equal(qr.length, 1, `expected exactly one QR signature: ${JSON.stringify(response.ftSignatures)}`)
  return qr[0]
}

/** Exact micro-unit arithmetic for expected totals, independent of src/core/money.ts. */
export function micros(text: string | number): bigint {
  const s = String(text)
  const negative = s.startsWith('-')
  const [whole = '0', fraction = ''] = s.replace(/^[-+]/, '').split('.')
  const value = BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, '0').slice(0, 6) || '0')
  return negative ? -value : value
}

/** micro-units -> decimal text with 2 to 6 decimals, like the API's amounts ("12.50", "0.125"). */
export function amountText(value: bigint): string {
  const negative = value < 0n
  const abs = negative ? -value : value
  let fraction = (abs % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '')
  fraction = fraction.padEnd(2, '0')
  return `${negative ? '-' : ''}${abs / 1_000_000n}.${fraction}`
}
