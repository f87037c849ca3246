import {
  type BenchCashbox,
  createCashboxes,
  type ServerOptions,
  signRequests,
  startCashboxes,
  startFiscalbox,
} from './fiscalbox.ts'
import { type LoadResult, runLoad } from './load.ts'
import { step } from './terminal.ts'

/**
 * The German market on /v2/sign: each POS receipt (implicit flow) runs a start and a finish TSS
 * transaction on the cash box's own TSS inside the receipt's unit of work, so receipts per second are
 * start+finish pairs per second.
 */
export interface DeSignRun {
  cashboxes: number
  load: LoadResult
  pairsPerSecond: number
  /** Server CPU per receipt (= per start+finish pair), µs. */
  cpuMicrosPerReceipt: number | null
}

export interface DeSignResult {
  measuredAt: string
  one: DeSignRun
  many: DeSignRun
}

const sale = (reference: string) =>
  `{"cbReceiptReference":"${reference}","cbReceiptMoment":"${new Date().toISOString()}","ftReceiptCase":"0x4445200100000001","cbChargeItems":[{"Quantity":1,"Description":"Kaffee","Amount":2.2,"VATRate":19,"ftChargeItemCase":"0x4445200000000003"},{"Quantity":1,"Description":"Brezel","Amount":1.3,"VATRate":7,"ftChargeItemCase":"0x4445200000000001"}],"cbPayItems":[{"Description":"Bar","Amount":3.5,"ftPayItemCase":"0x4445200000000001"}]}`

export async function deSignBench(
  dataDir: string,
  settings: { durationS: number; warmupS: number; connections: number; cashboxes: number },
  serverOptions: ServerOptions,
): Promise<DeSignResult> {
  const count = Math.min(settings.cashboxes, 20)
  step(`de-sign: DE receipts (implicit start+finish) on /v2/sign, 1 and ${count} cash boxes (${dataDir})`)
  const cashboxes = await createCashboxes(dataDir, count, 'DE')
  const server = await startFiscalbox(dataDir, serverOptions)
  try {
    await startCashboxes(
      server,
      cashboxes,
      '0x4445200000004001',
      'start receipts (TSS set-up) of the DE cash boxes',
    )
    const run = async (boxes: BenchCashbox[], label: string): Promise<DeSignRun> => {
      const options = {
        label,
        url: server.url,
        connections: settings.connections,
        serverPid: server.pid,
        requests: signRequests(boxes, label, sale),
      }
      await runLoad({ ...options, label: `${label} (warm-up)`, durationS: settings.warmupS })
      const load = await runLoad({ ...options, durationS: settings.durationS })
      const result = {
        cashboxes: boxes.length,
        load,
        pairsPerSecond: load.okPerSecond,
        cpuMicrosPerReceipt: load.serverCpuMicros,
      }
      step(
        `  ${boxes.length} DE cash box(es): ${Math.round(result.pairsPerSecond)} receipts (pairs)/s, server CPU ${load.serverCpuMicros?.toFixed(0)} µs per receipt, p99 ${load.latencyMs.p99.toFixed(1)} ms, non-2xx ${load.non2xx}`,
      )
      return result
    }
    const one = await run(cashboxes.slice(0, 1), 'de-sign-one')
    const many = await run(cashboxes, 'de-sign-many')
    return { measuredAt: new Date().toISOString(), one, many }
  } finally {
    await server.stop()
  }
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : 'n/a')

/** Rows of the results table (bench/report.ts). */
export function deSignRows(d: DeSignResult): string[][] {
  return [d.one, d.many].map((run) => [
    `DE /v2/sign receipts (implicit start+finish pair each) on ${run.cashboxes} cash box${run.cashboxes === 1 ? '' : 'es'} (${run.load.connections} connections)`,
    `${int(run.pairsPerSecond)} pairs/s, p99 ${run.load.latencyMs.p99.toFixed(1)} ms`,
    `server CPU ${run.cpuMicrosPerReceipt === null ? 'n/a' : int(run.cpuMicrosPerReceipt)} µs per receipt; non-2xx ${int(run.load.non2xx)}`,
    '',
  ])
}
