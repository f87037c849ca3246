import { loadavg } from 'node:os'
import {
  type BenchCashbox,
  createCashboxes,
  type ServerOptions,
  signRequests,
  startCashboxes,
  startFiscalbox,
} from './fiscalbox.ts'
import { type LoadResult, runLoad } from './load.ts'
import { type Server, withServer } from './processes.ts'
import { step } from './terminal.ts'

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
  /** The Portuguese half: added by the Portuguese market's change (same shape). */
  pt?: CountryLoad
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
  step(
    `fr-pt: generic, then FR /v2/sign on ${settings.cashboxes} cash boxes each, ${settings.connections} connections (${genericDir}, ${frDir})`,
  )
  // Every set made first, so that the measurements run back to back on the shared machine.
  const genericCashboxes = await createCashboxes(genericDir, settings.cashboxes)
  const frCashboxes = await createCashboxes(frDir, settings.cashboxes, 'FR')
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
  // PT: the Portuguese half goes here (its cash boxes made with the others above, measured after FR).
  return {
    measuredAt: new Date().toISOString(),
    cashboxes: settings.cashboxes,
    generic,
    genericLoadAverage,
    fr: { load: fr, ratio: frRatio, loadAverage: frLoadAverage },
  }
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : 'n/a')
const micros = (n: number | null) => (n === null ? 'n/a' : `${int(n)} µs`)

/** Rows of the results table (bench/report.ts): per country, its load and its ratio to the generic receipt. */
export function frPtRows(r: FrPtResult): string[][] {
  const halves: Array<[string, string, CountryLoad | undefined]> = [
    ['FR', 'chained JWS entry, running totals per VAT rate', r.fr],
    ['PT', '', r.pt],
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
  return `- *FR (and PT) receipts on /v2/sign* (\`npm run bench -- fr-pt\`): ${r?.cashboxes ?? 50} generic cash boxes, then ${r?.cashboxes ?? 50} made with \`fiscalbox cashbox create --country FR\`, each started with its start receipt (0x4652200000004001), each set on a server of its own, one after the other: POST /v2/sign with ${connections} connections, ${warmupS} s warm-up, then ${r ? Math.round(r.fr.load.durationS) : 30} s measured. The generic sale is the README's; the French one is a two-line café ticket at 10 % and 5.5 %, paid cash, which becomes an entry of chain T (a JWS signed with the queue key, its row in fr_entries) and raises the five running totals per VAT rate in the market state. The figure is the French server CPU per receipt over the generic one of the same run; the target is at most ${FR_PT_TARGET_RATIO} x. Load average when the generic run started: ${load(r?.genericLoadAverage)}; FR: ${load(r?.fr.loadAverage)} (2 cores shared with other work: the absolute figures move with it, the ratio less).`
}
