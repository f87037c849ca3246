import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { CreatedCashbox } from '../../../src/core/cashboxes.ts'
import { runCli } from '../../cli/cli-process.ts'

/**
 * A POS and an operator talking to an Austrian cash box through the public HTTP interface only. Case codes
 * are built here from the POS System API v2 layout (country AT = 0x4154, version 2), not taken from src/.
 */
export const AT_CASE = {
  pos: '0x4154200000000001',
  storno: '0x4154200000040001',
  training: '0x4154200000020001',
  zero: '0x4154200000002000',
  monthly: '0x4154200000002012',
  yearly: '0x4154200000002013',
  start: '0x4154200000004001',
  stop: '0x4154200000004002',
  daily: '0x4154200000002011',
} as const

/** One charge item per RKSV tax set; Besonders goes by its 19 % rate, the others by the VAT case nibble. */
export const SET_ITEMS = [
  { name: 'taxSetNormal', case: '0x4154200000000003', vat: 20 },
  { name: 'taxSetErmaessigt1', case: '0x4154200000000001', vat: 10 },
  { name: 'taxSetErmaessigt2', case: '0x4154200000000002', vat: 13 },
  { name: 'taxSetNull', case: '0x4154200000000007', vat: 0 },
  { name: 'taxSetBesonders', case: '0x4154200000000000', vat: 19 },
] as const

/** Exact cents of a scenario amount (two decimals at most): the text of the number, not float arithmetic. */
export function cents(value: number): bigint {
  const [whole = '0', fraction = ''] = String(Math.abs(value)).split('.')
  const magnitude = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0').slice(0, 2))
  return value < 0 ? -magnitude : magnitude
}

export const decimal = (c: bigint): string => {
  const abs = c < 0n ? -c : c
  return `${c < 0n ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`
}

const VIENNA = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Europe/Vienna',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
})

/** "2016-03-27T20:13:24" (Vienna) -> the UTC instant with the right offset (+01:00 or +02:00). */
export function viennaToIso(local: string): string {
  for (const offset of ['+01:00', '+02:00']) {
    const moment = new Date(`${local}${offset}`)
    if (VIENNA.format(moment).replace(' ', 'T') === local) return moment.toISOString()
  }
  throw new Error(`${local} is no local time in Vienna`)
}

export interface Reply {
  status: number
  payload: string
  json(): any
}

export class AtPos {
  constructor(
    readonly app: FastifyInstance,
    readonly box: CreatedCashbox,
  ) {}

  private headers(extra: Record<string, string> = {}) {
    return {
      'x-cashbox-id': this.box.cashboxId,
      'x-cashbox-accesstoken': this.box.accessToken,
      'content-type': 'application/json',
      ...extra,
    }
  }

  async request(method: 'GET' | 'PUT' | 'POST', url: string, body?: unknown): Promise<Reply> {
    const r = await this.app.inject({
      method,
      url,
      headers: this.headers(
        method === 'POST' && url === '/v2/sign' ? { 'x-operation-id': randomUUID() } : {},
      ),
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    })
    return { status: r.statusCode, payload: r.payload, json: () => r.json() }
  }

  async provision(body: unknown): Promise<any> {
    const reply = await this.request('PUT', '/at/v1/cashbox', body)
    assert.equal(reply.status, 200, reply.payload)
    return reply.json()
  }

  async setDevice(number: number, inService: boolean): Promise<void> {
    const reply = await this.request('PUT', `/at/v1/signature-devices/${number}/status`, { inService })
    assert.equal(reply.status, 200, reply.payload)
  }

  sign(body: unknown): Promise<Reply> {
    return this.request('POST', '/v2/sign', body)
  }

  async signOk(body: unknown): Promise<any> {
    const reply = await this.sign(body)
    assert.equal(reply.status, 200, `expected 200 from /v2/sign, got ${reply.status}: ${reply.payload}`)
    return reply.json()
  }

  async dep7(query = ''): Promise<any> {
    const reply = await this.request('GET', `/at/v1/dep7${query}`)
    assert.equal(reply.status, 200, reply.payload)
    return reply.json()
  }
}

export interface ReceiptSpec {
  reference: string
  moment: string
  caseCode: string
  /** Amount in cents per tax set (Normal, E1, E2, Null, Besonders). */
  sets?: readonly bigint[]
  device?: number
  ocr?: boolean
  previous?: string
}

export function atReceipt(spec: ReceiptSpec): Record<string, unknown> {
  const sets = spec.sets ?? [0n, 0n, 0n, 0n, 0n]
  const items = SET_ITEMS.flatMap((set, i) =>
    (sets[i] ?? 0n) === 0n
      ? []
      : [
          {
            Quantity: 1,
            Description: set.name,
            Amount: decimal(sets[i] as bigint),
            VATRate: set.vat,
            ftChargeItemCase: set.case,
          },
        ],
  )
  const total = sets.reduce((s, a) => s + a, 0n)
  const caseData: Record<string, unknown> = {}
  if (spec.device !== undefined) caseData.SignatureDevice = spec.device
  if (spec.ocr) caseData.OCR = true
  return {
    cbReceiptReference: spec.reference,
    cbReceiptMoment: spec.moment,
    ftReceiptCase: spec.caseCode,
    cbChargeItems: items,
    cbPayItems:
      items.length === 0
        ? []
        : [{ Description: 'Bar', Amount: decimal(total), ftPayItemCase: '0x4154200000000001' }],
    ...(spec.previous ? { cbPreviousReceiptReference: spec.previous } : {}),
    ...(Object.keys(caseData).length > 0 ? { ftReceiptCaseData: { AT: caseData } } : {}),
  }
}

/** The machine-readable code inside a JWS, split into its fields (leading empty field kept). */
export const payloadFields = (jws: string): string[] =>
  Buffer.from(jws.split('.')[1] ?? '', 'base64url')
    .toString('utf8')
    .split('_')

/** ftState low 32 bits and the AT local flags (bits 32-43). */
export const stateBits = (ftState: string) => {
  const value = BigInt(ftState)
  return { low: value & 0xffff_ffffn, local: (value >> 32n) & 0xfffn }
}

/** `fiscalbox export dep7` then `fiscalbox verify --json` on the file, as an operator runs them: the report. */
export async function exportAndVerifyDep7(
  env: NodeJS.ProcessEnv,
  cashboxId: string,
  out: string,
  keys: string,
): Promise<any> {
  const exported = await runCli(['export', 'dep7', '--cashbox', cashboxId, '--out', out, '--keys', keys], env)
  assert.equal(exported.code, 0, exported.stderr)
  const verified = await runCli(['verify', out, '--keys', keys, '--json'], env)
  assert.equal(verified.code, 0, `${verified.stdout}${verified.stderr}`)
  return JSON.parse(verified.stdout)
}
