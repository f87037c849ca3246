import { generateKeyPairSync } from 'node:crypto'
import { loadavg } from 'node:os'
import {
  type BenchCashbox,
  createCashboxes,
  type ServerOptions,
  signHeaders,
  signRequests,
  startCashboxes,
  startFiscalbox,
} from './fiscalbox.ts'
import { type LoadResult, runLoad } from './load.ts'
import type { Server } from './processes.ts'
import { counter, step } from './terminal.ts'

/** The issue's target: PT (and FR) /v2/sign server CPU per receipt at most this many times the generic receipt's. */
export const FR_PT_TARGET_RATIO = 2

/**
 * France and Portugal on /v2/sign, each against the generic receipt of the same shape measured in the same
 * run, right before. Portugal: each receipt is a simplified invoice (FS), signed with RSA-SHA1 (1024-bit
 * key) over its dates, number, total and the previous FS hash, with ATCUD, QR code and its document row in
 * the receipt's commit. France: its half is added here by the French market (`fr`), same shape.
 */
export interface FrPtRun {
  load: LoadResult
  /** the market's server CPU per receipt / the generic's */
  ratio: number | null
  /** os.loadavg() when the measurement started (a shared machine) */
  loadAverage: number[]
}

export interface FrPtResult {
  measuredAt: string
  cashboxes: number
  generic: LoadResult
  genericLoadAverage: number[]
  pt: FrPtRun
}

const ptSale = (reference: string) =>
  `{"cbReceiptReference":"${reference}","cbReceiptMoment":"${new Date().toISOString()}","ftReceiptCase":"0x5054200000000001","cbChargeItems":[{"Quantity":1,"Description":"Galão","Amount":1.6,"VATRate":13,"ftChargeItemCase":"0x5054200000000002"},{"Quantity":1,"Description":"Torrada","Amount":2.46,"VATRate":23,"ftChargeItemCase":"0x5054200000000003"}],"cbPayItems":[{"Description":"Numerário","Amount":4.06,"ftPayItemCase":"0x5054200000000001"}]}`

/** Configures the PT cash boxes (one bench key, a series each) over HTTP and starts them. */
async function configurePt(server: Server, cashboxes: BenchCashbox[]): Promise<void> {
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  })
  const shown = counter('configuring PT cash boxes', cashboxes.length)
  let done = 0
  for (const [i, cashbox] of cashboxes.entries()) {
    const response = await fetch(`${server.url}/pt/v1/cashbox`, {
      method: 'PUT',
      headers: signHeaders(cashbox),
      body: JSON.stringify({
        nif: '509442013',
        companyName: 'Café Banco de Ensaio, Lda.',
        certificateNumber: '9999',
        privateKey,
        series: [{ documentType: 'FS', series: `B${i + 1}`, validationCode: 'AAJFJNK6JJ' }],
      }),
    })
    if (response.status !== 200)
      throw new Error(`PUT /pt/v1/cashbox answered ${response.status}: ${await response.text()}`)
    shown.update(++done)
  }
  shown.done()
  await startCashboxes(server, cashboxes, '0x5054200000004001', 'start receipts of the PT cash boxes')
}

async function measure(
  dataDir: string,
  cashboxes: BenchCashbox[],
  label: string,
  settings: { durationS: number; warmupS: number; connections: number },
  serverOptions: ServerOptions,
  prepare: (server: Server) => Promise<void>,
  sale?: (reference: string) => string,
): Promise<{ load: LoadResult; loadAverage: number[] }> {
  const server = await startFiscalbox(dataDir, serverOptions)
  try {
    await prepare(server)
    const options = {
      label,
      url: server.url,
      connections: settings.connections,
      serverPid: server.pid,
      requests: signRequests(cashboxes, label, sale),
    }
    await runLoad({ ...options, label: `${label} (warm-up)`, durationS: settings.warmupS })
    const loadAverage = loadavg()
    const load = await runLoad({ ...options, durationS: settings.durationS })
    step(
      `  ${label}: ${Math.round(load.okPerSecond)} req/s, server CPU ${load.serverCpuMicros?.toFixed(0)} µs per receipt, non-2xx ${load.non2xx}`,
    )
    return { load, loadAverage }
  } finally {
    await server.stop()
  }
}

const ratioOf = (market: LoadResult, generic: LoadResult) =>
  market.serverCpuMicros !== null && generic.serverCpuMicros
    ? market.serverCpuMicros / generic.serverCpuMicros
    : null

export async function frPtBench(
  fresh: (label: string) => string,
  settings: { durationS: number; warmupS: number; connections: number; cashboxes: number },
  serverOptions: ServerOptions,
): Promise<FrPtResult> {
  const count = Math.min(settings.cashboxes, 20)
  const genericDir = fresh('fr-pt-generic')
  const ptDir = fresh('fr-pt-pt')
  step(`fr-pt: generic, then PT /v2/sign on ${count} cash boxes each, ${settings.connections} connections`)
  // Both sets made first, so that the measurements run back to back on the shared machine.
  const genericBoxes = await createCashboxes(genericDir, count)
  const ptBoxes = await createCashboxes(ptDir, count, 'PT')
  const generic = await measure(
    genericDir,
    genericBoxes,
    'fr-pt generic',
    settings,
    serverOptions,
    (server) => startCashboxes(server, genericBoxes),
  )
  const pt = await measure(
    ptDir,
    ptBoxes,
    'fr-pt PT',
    settings,
    serverOptions,
    (server) => configurePt(server, ptBoxes),
    ptSale,
  )
  // France: its market adds `fr` here, measured the same way after the generic run.
  return {
    measuredAt: new Date().toISOString(),
    cashboxes: count,
    generic: generic.load,
    genericLoadAverage: generic.loadAverage,
    pt: { load: pt.load, ratio: ratioOf(pt.load, generic.load), loadAverage: pt.loadAverage },
  }
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : 'n/a')
const micros = (n: number | null) => (n === null ? 'n/a' : `${int(n)} µs`)

/** Rows of the results table (bench/report.ts). */
export function frPtRows(r: FrPtResult): string[][] {
  const row = (name: string, run: FrPtRun) => [
    `${name} / generic /v2/sign server CPU per receipt, same run (${r.cashboxes} cash boxes each, ${run.load.connections} connections)`,
    run.ratio === null ? 'n/a' : `${run.ratio.toFixed(2)} x`,
    `${micros(run.load.serverCpuMicros)} / ${micros(r.generic.serverCpuMicros)}; ${int(run.load.okPerSecond)} / ${int(r.generic.okPerSecond)} req/s; non-2xx ${int(run.load.non2xx)}; load average ${run.loadAverage[0]?.toFixed(2) ?? 'n/a'} at the start`,
    `≤ ${FR_PT_TARGET_RATIO}x ${run.ratio !== null && run.ratio <= FR_PT_TARGET_RATIO ? 'met' : '**missed**'}`,
  ]
  return [row('PT (FS, RSA-SHA1 chain, ATCUD, QR)', r.pt)]
}

/** The part's method for docs/benchmarks.md. */
export const frPtMethod = (r: FrPtResult | undefined) =>
  `- *France and Portugal on /v2/sign* (\`npm run bench -- fr-pt\`): ${r?.cashboxes ?? 20} EU cash boxes started, then POST /v2/sign with a two-line café sale (${r?.generic.connections ?? 64} connections, 5 s warm-up, ${r ? Math.round(r.generic.durationS) : 30} s measured), on a \`fiscalbox serve\` of their own; right after, the same load on ${r?.cashboxes ?? 20} PT cash boxes, each configured over PUT /pt/v1/cashbox (one 1024-bit RSA bench key, an FS series each) and started: every receipt is a simplified invoice signed with RSA-SHA1 over its dates, number, total and the previous FS hash, with its ATCUD, QR code and document row committed with the receipt. The figure is the ratio of the two server CPU times per receipt, measured minutes apart on the same machine (target: at most ${FR_PT_TARGET_RATIO} x generic). France's half comes with the French market.${r ? ` Measured on ${r.measuredAt.slice(0, 10)}; load average ${r.genericLoadAverage[0]?.toFixed(2)} (generic) and ${r.pt.loadAverage[0]?.toFixed(2)} (PT) at the start: the machine was shared with other work, so the absolute figures are low and the ratio holds better.` : ''}`
