import type { Request } from 'autocannon'
import { type BenchCashbox, createCashboxes, signHeaders, signRequests } from './fiscalbox.ts'
import type { LoadResult } from './load.ts'
import type { Server } from './processes.ts'
import { counter } from './terminal.ts'

/** The target: ES /v2/sign server CPU per receipt at most this many times the generic receipt's. */
export const ES_POS_TARGET_RATIO = 2

/**
 * Spain on /v2/sign: VERI*FACTU receipts per second (record, Huella chain, QR, the record row and its
 * outbox job in the receipt's commit) while the server's outbox workers submit them to an authority
 * simulator in a process of its own, as the AEAT is a remote service in production; the generic /v2/sign
 * load of the same shape runs in the same bench run, right before, for the ratio.
 */
export interface EsPosResult {
  measuredAt: string
  load: LoadResult
  /** the generic (EU) /v2/sign load: same cash-box count, connections and duration */
  generic: LoadResult
  cashboxes: number
  /** records the server's outbox had answered when the load ended, of those made */
  submitted: { accepted: number; records: number }
  /** the simulator process's CPU during the measured ES load, per receipt answered 200 */
  simulatorCpuMicros: number | null
  /** ES server CPU per receipt / generic server CPU per receipt */
  ratio: number | null
  /** os.loadavg() when the generic and when the ES measurement started (a shared machine) */
  loadAverage: { generic: number[]; es: number[] }
}

const MOMENT = '2026-01-15T10:00:00.000Z'

const esSale = (reference: string) =>
  `{"cbReceiptReference":"${reference}","cbReceiptMoment":"${MOMENT}","ftReceiptCase":"0x4553200000000001","cbChargeItems":[{"Quantity":1,"Description":"Café con leche","Amount":1.6,"VATRate":10,"ftChargeItemCase":"0x4553200000000001"},{"Quantity":1,"Description":"Tostada","Amount":2.42,"VATRate":21,"ftChargeItemCase":"0x4553200000000003"}],"cbPayItems":[{"Description":"Efectivo","Amount":4.02,"ftPayItemCase":"0x4553200000000001"}]}`

async function call(server: Server, cashbox: BenchCashbox, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: signHeaders(cashbox),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  if (response.status !== 200) throw new Error(`${method} ${path} answered ${response.status}: ${text}`)
  return JSON.parse(text) as { ftState?: string; records?: Array<{ status: string }> }
}

export const prepareEsCashboxes = (dataDir: string, count: number): Promise<BenchCashbox[]> =>
  createCashboxes(dataDir, count, 'ES')

/** Configures the cash boxes for VERI*FACTU (test environment: the simulator the server is pointed at) and starts them. */
export async function configureAndStart(server: Server, cashboxes: BenchCashbox[]): Promise<void> {
  const shown = counter('configuring and starting ES cash boxes', cashboxes.length)
  let done = 0
  for (const [i, cashbox] of cashboxes.entries()) {
    await call(server, cashbox, 'PUT', '/es/v1/cashbox', {
      system: 'verifactu',
      nif: 'B12345674',
      name: 'Bar Banco de Pruebas SL',
      series: `B${i + 1}-`,
    })
    await call(server, cashbox, 'POST', '/v2/sign', {
      cbReceiptReference: 'bench-start',
      cbReceiptMoment: MOMENT,
      ftReceiptCase: '0x4553200000004001',
      cbChargeItems: [],
      cbPayItems: [],
    })
    shown.update(++done)
  }
  shown.done()
}

export const esSignRequests = (cashboxes: BenchCashbox[], label: string): Request[] =>
  signRequests(cashboxes, label, esSale)

/** How many of the cash boxes' records the outbox has had accepted so far. */
export async function submissionProgress(
  server: Server,
  cashboxes: BenchCashbox[],
): Promise<EsPosResult['submitted']> {
  let accepted = 0
  let records = 0
  for (const cashbox of cashboxes) {
    for (let after = 0; ; ) {
      const page = await call(server, cashbox, 'GET', `/es/v1/records?after=${after}&limit=1000`)
      const list = page.records ?? []
      records += list.length
      accepted += list.filter((r) => r.status === 'accepted').length
      if (list.length < 1000) break
      after += 1000
    }
  }
  return { accepted, records }
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : 'n/a')

/** Rows of the results table (bench/report.ts). */
export function esPosRows(e: EsPosResult): string[][] {
  const micros = (n: number | null) => (n === null ? 'n/a' : `${int(n)} µs`)
  const ratio = e.ratio === null ? 'n/a' : `${e.ratio.toFixed(2)} x`
  return [
    [
      `ES /v2/sign (VERI*FACTU record + outbox job), ${e.cashboxes} cash boxes, ${e.load.connections} connections`,
      `${int(e.load.okPerSecond)} req/s`,
      `server CPU ${micros(e.load.serverCpuMicros)} per receipt, the outbox's submissions included, the authority simulator (its own process, ${micros(e.simulatorCpuMicros)} per receipt) not (${int(e.submitted.accepted)} of ${int(e.submitted.records)} records accepted when the load ended); non-2xx ${int(e.load.non2xx)}`,
      '',
    ],
    [
      `ES / generic /v2/sign server CPU per receipt, same run (generic: ${e.cashboxes} EU cash boxes, ${int(e.generic.okPerSecond)} req/s)`,
      `${ratio}`,
      `${micros(e.load.serverCpuMicros)} / ${micros(e.generic.serverCpuMicros)}; load average ${e.loadAverage.generic[0]?.toFixed(2) ?? 'n/a'} (generic), ${e.loadAverage.es[0]?.toFixed(2) ?? 'n/a'} (ES) at the start`,
      `≤ ${ES_POS_TARGET_RATIO}x ${e.ratio !== null && e.ratio <= ES_POS_TARGET_RATIO ? 'met' : '**missed**'}`,
    ],
  ]
}
