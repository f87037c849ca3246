import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { compactVerify, importSPKI } from 'jose'
import type { CreatedCashbox } from '../../../src/core/cashboxes.ts'

/**
 * A POS talking to a French cash box through /v2/sign only, and an auditor's checks with `jose` (not
 * fiscalbox's signer). Case codes are written out from the POS System API v2 layout (FR = 0x4652).
 */
export const FR_CASE = {
  pos: '0x4652200000000001',
  paymentTransfer: '0x4652200000000002',
  deliveryNote: '0x4652200000000005',
  proForma: '0x4652200000000007',
  invoice: '0x4652200000001001',
  zero: '0x4652200000002000',
  shift: '0x4652200000002010',
  daily: '0x4652200000002011',
  monthly: '0x4652200000002012',
  yearly: '0x4652200000002013',
  technicalEvent: '0x4652200000003001',
  copy: '0x4652200000003010',
  archive: '0x4652200000003011',
  start: '0x4652200000004001',
  stop: '0x4652200000004002',
  trainingPos: '0x4652200000020001',
  lateSigningPos: '0x4652200000010001',
  foreignSale: '0x4652200000800001',
} as const

let counter = 0
export const reference = (prefix = 'FR') => `${prefix}-${++counter}-${randomUUID().slice(0, 8)}`

/** A receipt with one charge item per [amount, VAT rate] and one cash payment of the total. */
export function frReceipt(
  caseCode: string,
  items: ReadonlyArray<readonly [string, number]> = [],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const cents = items.reduce((sum, [amount]) => sum + Math.round(Number(amount) * 100), 0)
  return {
    cbReceiptReference: reference(),
    cbReceiptMoment: new Date().toISOString(),
    ftReceiptCase: caseCode,
    cbChargeItems: items.map(([amount, rate], i) => ({
      Quantity: 1,
      Description: `Article ${i + 1}`,
      Amount: amount,
      VATRate: rate,
    })),
    cbPayItems: items.length === 0 ? [] : [{ Description: 'Espèces', Amount: (cents / 100).toFixed(2) }],
    ...extra,
  }
}

export interface Reply {
  status: number
  payload: string
  json(): any
}

export class FrPos {
  constructor(
    readonly app: FastifyInstance,
    readonly box: CreatedCashbox,
  ) {}

  async sign(body: unknown): Promise<Reply> {
    const r = await this.app.inject({
      method: 'POST',
      url: '/v2/sign',
      headers: {
        'x-cashbox-id': this.box.cashboxId,
        'x-cashbox-accesstoken': this.box.accessToken,
        'x-operation-id': randomUUID(),
        'content-type': 'application/json',
      },
      payload: JSON.stringify(body),
    })
    return { status: r.statusCode, payload: r.payload, json: () => r.json() }
  }

  async signOk(body: unknown): Promise<any> {
    const reply = await this.sign(body)
    assert.equal(reply.status, 200, `expected 200 from /v2/sign, got ${reply.status}: ${reply.payload}`)
    return reply.json()
  }
}

/** The compact JWS a French response carries in its QR code item. */
export const jwsOf = (response: any): string => {
  const qr = response.ftSignatures.find((s: any) => BigInt(s.ftSignatureFormat) === 0x3n)
  assert.ok(qr, `no QR signature in ${JSON.stringify(response.ftSignatures)}`)
  return qr.Data
}

export const textSignature = (response: any, caption: string): string | undefined =>
  response.ftSignatures.find((s: any) => s.Caption === caption)?.Data

/** The queue's public key (base64 SPKI) as jose imports it. */
export const joseKey = (spkiBase64: string) =>
  importSPKI(
    `-----BEGIN PUBLIC KEY-----\n${spkiBase64.match(/.{1,64}/g)?.join('\n')}\n-----END PUBLIC KEY-----`,
    'ES256',
  )

/** jose verifies the JWS (64-byte r||s, ES256) and returns its payload; a bad signature throws. */
export async function verifiedPayload(jws: string, key: Awaited<ReturnType<typeof joseKey>>): Promise<any> {
  const { payload, protectedHeader } = await compactVerify(jws, key)
  assert.equal(protectedHeader.alg, 'ES256')
  return JSON.parse(new TextDecoder().decode(payload))
}

/** The chain value the next entry of a chain carries: base64 SHA-256 of the JWS signing input. */
export async function chainValue(jws: string): Promise<string> {
  const input = new TextEncoder().encode(jws.slice(0, jws.lastIndexOf('.')))
  return Buffer.from(await crypto.subtle.digest('SHA-256', input)).toString('base64')
}

/**
 * Checks a sequence of entries (in signing order) with jose: every signature, and per chain consecutive
 * numbers each carrying the previous entry's chain value ('' before the first one of the queue).
 */
export async function verifyChains(
  entries: readonly string[],
  key: Awaited<ReturnType<typeof joseKey>>,
  start: Record<string, { n: number; hash: string }> = {},
): Promise<Record<string, { n: number; hash: string }>> {
  const heads: Record<string, { n: number; hash: string }> = { ...start }
  for (const jws of entries) {
    const payload = await verifiedPayload(jws, key)
    const head = heads[payload.chain] ?? { n: 0, hash: '' }
    assert.equal(payload.n, head.n + 1, `${payload.chain}${payload.n} after ${payload.chain}${head.n}`)
    assert.equal(payload.hash, head.hash, `${payload.chain}${payload.n} links to its predecessor`)
    heads[payload.chain] = { n: payload.n, hash: await chainValue(jws) }
  }
  return heads
}

/** Sum of decimal texts, in cents. */
export const cents = (values: readonly string[]): number =>
  values.reduce((sum, v) => sum + Math.round(Number(v) * 100), 0)
