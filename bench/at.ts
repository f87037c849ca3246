import type { Request } from 'autocannon'
import { type BenchCashbox, createCashboxes, signHeaders, signRequests } from './fiscalbox.ts'
import type { LoadResult } from './load.ts'
import type { Server } from './processes.ts'
import { counter } from './terminal.ts'

/** The Austrian part of the bench: RKSV receipts (ES256 JWS, AES turnover counter, own table) per second. */
export interface AtResult {
  measuredAt: string
  hello: LoadResult
  /** All connections on one cash box: its queue serializes every receipt. */
  one: LoadResult
  /** The same load spread over `cashboxes` cash boxes. */
  many: LoadResult
  cashboxes: number
  oneRatio: number
  manyRatio: number
}

/**
 * Every receipt carries the same moment: with 64 connections the arrival order at a queue is not the order
 * the requests were made in, and RKSV refuses dates that decrease (equal ones are allowed).
 */
const MOMENT = '2026-01-15T10:00:00.000Z'

const atSale = (reference: string) =>
  `{"cbReceiptReference":"${reference}","cbReceiptMoment":"${MOMENT}","ftReceiptCase":"0x4154200000000001","cbChargeItems":[{"Quantity":1,"Description":"Melange","Amount":3.9,"VATRate":10,"ftChargeItemCase":"0x4154200000000011"},{"Quantity":1,"Description":"Kuchen","Amount":4.2,"VATRate":20,"ftChargeItemCase":"0x4154200000000013"}],"cbPayItems":[{"Description":"Bar","Amount":8.1,"ftPayItemCase":"0x4154200000000001"}]}`

async function call(server: Server, cashbox: BenchCashbox, method: string, path: string, body: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: signHeaders(cashbox),
    body: JSON.stringify(body),
  })
  const text = await response.text()
  if (response.status !== 200) throw new Error(`${method} ${path} answered ${response.status}: ${text}`)
  return JSON.parse(text) as { ftState?: string }
}

/** Creates AT cash boxes with the CLI, provisions them over HTTP (one closed-system device each) and starts them. */
export async function prepareAtCashboxes(dataDir: string, count: number): Promise<BenchCashbox[]> {
  return createCashboxes(dataDir, count, 'AT')
}

export async function provisionAndStart(server: Server, cashboxes: BenchCashbox[]): Promise<void> {
  const shown = counter('provisioning and starting AT cash boxes', cashboxes.length)
  let done = 0
  for (const [i, cashbox] of cashboxes.entries()) {
    await call(server, cashbox, 'PUT', '/at/v1/cashbox', {
      kassenId: `BENCH-${i + 1}`,
      companyId: 'U:ATU12345678',
      devices: [{ number: 0 }],
    })
    const started = await call(server, cashbox, 'POST', '/v2/sign', {
      cbReceiptReference: 'bench-start',
      cbReceiptMoment: MOMENT,
      ftReceiptCase: '0x4154200000004001',
      cbChargeItems: [],
      cbPayItems: [],
    })
    if (!started.ftState?.endsWith('00000000'))
      throw new Error(`AT start receipt answered ${started.ftState}`)
    shown.update(++done)
  }
  shown.done()
}

/** autocannon requests: the cash boxes in turn, a new operation id and Belegnummer each. */
export function atSignRequests(cashboxes: BenchCashbox[], label: string): Request[] {
  return signRequests(cashboxes, label, atSale)
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : 'n/a')
const pct = (r: number) => (Number.isFinite(r) ? `${(r * 100).toFixed(1)} %` : 'n/a')
const cpu = (r: LoadResult) => (r.serverCpuMicros === null ? 'n/a' : `${int(r.serverCpuMicros)} µs`)

/** Rows of the results table (bench/report.ts). */
export function atRows(a: AtResult): string[][] {
  return [
    [
      `AT /v2/sign (RKSV), one cash box, ${a.one.connections} connections`,
      `${int(a.one.okPerSecond)} req/s`,
      `${pct(a.oneRatio)} of hello-world (${int(a.hello.okPerSecond)} req/s in this run); server CPU ${cpu(a.one)} per receipt; non-2xx ${int(a.one.non2xx)}`,
      '',
    ],
    [
      `AT /v2/sign (RKSV), ${a.cashboxes} cash boxes, ${a.many.connections} connections`,
      `${int(a.many.okPerSecond)} req/s`,
      `${pct(a.manyRatio)} of hello-world; server CPU ${cpu(a.many)} per receipt (hello-world ${cpu(a.hello)}); non-2xx ${int(a.many.non2xx)}`,
      '',
    ],
  ]
}
