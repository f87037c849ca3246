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
import { type Server, withServer } from './processes.ts'
import { counter, step } from './terminal.ts'

/**
 * France and Portugal on /v2/sign: server CPU per receipt of each country's market against the generic
 * receipt measured in the same run, right before, on the same machine. The target for both: at most
 * this many times the generic receipt's CPU.
 */
export const FR_PT_TARGET_RATIO = 2

/** One country's half: its load and its CPU per receipt over the generic one's. */
export interface CountryLoad {
  load: LoadResult
  /** country server CPU per receipt / generic server CPU per receipt */
  ratio: number | null
  /** os.loadavg() when the country's measurement started (a shared machine) */
  loadAverage: number[]
}

export interface FrPtResult {
  measuredAt: string
  cashboxes: number
  /** the generic (EU) /v2/sign load: same cash-box count, connections and duration */
  generic: LoadResult
  genericLoadAverage: number[]
  fr: CountryLoad
  pt: CountryLoad
}

interface BenchSettings {
  cashboxes: number
  connections: number
  durationS: number
  warmupS: number
}

/** A two-line café sale at two French VAT rates, paid cash: a ticket (chain T) with its JWS. */
const frSale = (reference: string) =>
  `{"cbReceiptReference":"${reference}","cbReceiptMoment":"${new Date().toISOString()}","ftReceiptCase":"0x4652200000000001","cbChargeItems":[{"Quantity":1,"Description":"Café crème","Amount":3.2,"VATRate":10},{"Quantity":1,"Description":"Croissant","Amount":1.6,"VATRate":5.5}],"cbPayItems":[{"Description":"Espèces","Amount":4.8}]}`

/** A two-line café sale at 13 % and 23 %, paid cash: a simplified invoice (FS) with its RSA-SHA1 hash. */
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

/** Warm-up (JIT, caches, connections), then the measured load, on cash boxes already started. */
async function signLoad(
  server: Server,
  settings: BenchSettings,
  label: string,
  cashboxes: BenchCashbox[],
  sale?: (reference: string) => string,
): Promise<LoadResult> {
  const options = {
    label,
    url: server.url,
    connections: settings.connections,
    serverPid: server.pid,
    requests: signRequests(cashboxes, label, sale),
  }
  await runLoad({ ...options, label: `${label} (warm-up)`, durationS: settings.warmupS })
  return runLoad({ ...options, durationS: settings.durationS })
}

const cpuRatio = (country: LoadResult, generic: LoadResult): number | null =>
  country.serverCpuMicros !== null && generic.serverCpuMicros
    ? country.serverCpuMicros / generic.serverCpuMicros
    : null

export async function frPtBench(
  fresh: (label: string) => string,
  settings: BenchSettings,
  serverOptions: ServerOptions,
): Promise<FrPtResult> {
  const genericDir = fresh('fr-pt-generic')
  const frDir = fresh('fr-pt-fr')
  const ptDir = fresh('fr-pt-pt')
  step(
    `fr-pt: generic, then FR, then PT /v2/sign on ${settings.cashboxes} cash boxes each, ${settings.connections} connections (${genericDir}, ${frDir}, ${ptDir})`,
  )
  // Every set made first, so that the measurements run back to back on the shared machine.
  const genericCashboxes = await createCashboxes(genericDir, settings.cashboxes)
  const frCashboxes = await createCashboxes(frDir, settings.cashboxes, 'FR')
  const ptCashboxes = await createCashboxes(ptDir, settings.cashboxes, 'PT')
  const genericLoadAverage = loadavg()
  const generic = await withServer(startFiscalbox(genericDir, serverOptions), async (server) => {
    await startCashboxes(server, genericCashboxes)
    return signLoad(server, settings, 'fr-pt generic', genericCashboxes)
  })
  const frLoadAverage = loadavg()
  const fr = await withServer(startFiscalbox(frDir, serverOptions), async (server) => {
    await startCashboxes(server, frCashboxes, '0x4652200000004001', 'starting FR cash boxes')
    return signLoad(server, settings, 'fr-pt FR', frCashboxes, frSale)
  })
  const frRatio = cpuRatio(fr, generic)
  step(
    `  FR: ${Math.round(fr.okPerSecond)} req/s, CPU ${Math.round(fr.serverCpuMicros ?? Number.NaN)} µs/receipt = ${frRatio?.toFixed(2) ?? 'n/a'} x generic (${Math.round(generic.serverCpuMicros ?? Number.NaN)} µs), non-2xx ${fr.non2xx}`,
  )
  const ptLoadAverage = loadavg()
  const pt = await withServer(startFiscalbox(ptDir, serverOptions), async (server) => {
    await configurePt(server, ptCashboxes)
    return signLoad(server, settings, 'fr-pt PT', ptCashboxes, ptSale)
  })
  const ptRatio = cpuRatio(pt, generic)
  step(
    `  PT: ${Math.round(pt.okPerSecond)} req/s, CPU ${Math.round(pt.serverCpuMicros ?? Number.NaN)} µs/receipt = ${ptRatio?.toFixed(2) ?? 'n/a'} x generic, non-2xx ${pt.non2xx}`,
  )
  return {
    measuredAt: new Date().toISOString(),
    cashboxes: settings.cashboxes,
    generic,
    genericLoadAverage,
    fr: { load: fr, ratio: frRatio, loadAverage: frLoadAverage },
    pt: { load: pt, ratio: ptRatio, loadAverage: ptLoadAverage },
  }
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : 'n/a')
const micros = (n: number | null) => (n === null ? 'n/a' : `${int(n)} µs`)

/** Rows of the results table (bench/report.ts): per country, its load and its ratio to the generic receipt. */
export function frPtRows(r: FrPtResult): string[][] {
  const halves: Array<[string, string, CountryLoad | undefined]> = [
    ['FR', 'chained JWS entry, running totals per VAT rate', r.fr],
    ['PT', 'FS signed with RSA-SHA1, chained per series, ATCUD, QR', r.pt],
  ]
  return halves.flatMap(([country, what, half]) =>
    half
      ? [
          [
            `${country} / generic /v2/sign server CPU per receipt (${what}), ${r.cashboxes} cash boxes, ${half.load.connections} connections`,
            half.ratio === null ? 'n/a' : `${half.ratio.toFixed(2)} x`,
            `${micros(half.load.serverCpuMicros)} / ${micros(r.generic.serverCpuMicros)}; ${int(half.load.okPerSecond)} req/s (generic ${int(r.generic.okPerSecond)} req/s); non-2xx ${int(half.load.non2xx)}`,
            `≤ ${FR_PT_TARGET_RATIO}x ${half.ratio !== null && half.ratio <= FR_PT_TARGET_RATIO ? 'met' : '**missed**'}`,
          ],
        ]
      : [],
  )
}

/** The fr-pt part's method, with the load averages the shared machine had. */
export function frPtMethod(r: FrPtResult | undefined, connections: number, warmupS: number): string {
  const load = (l: number[] | undefined) => (l ? l.map((x) => x.toFixed(2)).join(', ') : 'n/a')
  return `- *FR and PT receipts on /v2/sign* (\`npm run bench -- fr-pt\`): ${r?.cashboxes ?? 50} generic cash boxes, then ${r?.cashboxes ?? 50} made with \`fiscalbox cashbox create --country FR\`, then ${r?.cashboxes ?? 50} with \`--country PT\`, each set on a server of its own, one after the other, each cash box started with its start receipt: POST /v2/sign with ${connections} connections, ${warmupS} s warm-up, then ${r ? Math.round(r.fr.load.durationS) : 30} s measured. The generic sale is the README's. The French one is a two-line café ticket at 10 % and 5.5 %, paid cash, which becomes an entry of chain T (a JWS signed with the queue key, its row in fr_entries) and raises the five running totals per VAT rate in the market state. The Portuguese one is a two-line café sale at 13 % and 23 % on cash boxes configured over PUT /pt/v1/cashbox (one 1024-bit RSA bench key, an FS series each): a simplified invoice signed with RSA-SHA1 over its dates, number, total and the previous FS hash, with its ATCUD, QR code and document row committed with the receipt. The figures are each country's server CPU per receipt over the generic one of the same run; the target is at most ${FR_PT_TARGET_RATIO} x. Load average when the generic run started: ${load(r?.genericLoadAverage)}; FR: ${load(r?.fr.loadAverage)}; PT: ${load(r?.pt?.loadAverage)} (2 cores shared with other work: the absolute figures move with it, the ratio less).`
}
