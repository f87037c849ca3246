import { loadavg } from 'node:os'
import {
  type BenchCashbox,
  createCashboxes,
  genericSignLoad,
  type ServerOptions,
  signHeaders,
  signRequests,
  startCashboxes,
  startFiscalbox,
} from './fiscalbox.ts'
import { type LoadResult, runLoad } from './load.ts'
import { cpuSeconds, type Server, startServer } from './processes.ts'
import { step } from './terminal.ts'

/**
 * Italy: IT cash boxes print on simulated Epson RT printers (bench/it-simulators.ts, one process serving a
 * port per device, 266 ms a document by default). One cash box on one device must sign at the device's pace,
 * with /v2/sign's p99 at most the device's latency plus 20 ms; and 20 IT cash boxes on 20 devices must leave
 * 30 generic cash boxes under full load at least 90 % of their throughput alone.
 */
export interface ItResult {
  measuredAt: string
  deviceLatencyMs: number
  /** One IT cash box on one device, one connection (a till waits for its printer). */
  one: LoadResult
  genericCashboxes: number
  itCashboxes: number
  alone: LoadResult
  together: LoadResult
  it: LoadResult
  /** Generic receipts/s beside the IT cash boxes / alone. */
  share: number
  /**
   * CPU (user + system) of the simulators' process per IT receipt while the 20 cash boxes signed: the
   * devices are hardware in a shop, here they take their share of the same cores as the server.
   */
  simulatorCpuMicros: number | null
  /** Load average (1, 5, 15 min) when each measurement started: the machine is shared. */
  loadAverage: { one: number[]; alone: number[]; together: number[] }
}

export const IT_TARGETS = { share: 0.9, p99MarginMs: 20 } as const
const DEVICE_LATENCY_MS = 266

const itSale = (reference: string) =>
  `{"cbReceiptReference":"${reference}","cbReceiptMoment":"${new Date().toISOString()}","ftReceiptCase":"0x4954200000000001","cbChargeItems":[{"Quantity":1,"Description":"Caffè","Amount":1.2,"VATRate":22,"ftChargeItemCase":"0x4954200000000003"}],"cbPayItems":[{"Description":"Contanti","Amount":1.2,"ftPayItemCase":"0x4954200000000001"}]}`

/** Each IT cash box gets its own device (PUT /it/v1/cashbox), then its start receipt. */
async function configureDevices(server: Server, cashboxes: BenchCashbox[], urls: string[]): Promise<void> {
  for (const [i, cashbox] of cashboxes.entries()) {
    const reply = await fetch(`${server.url}/it/v1/cashbox`, {
      method: 'PUT',
      headers: signHeaders(cashbox),
      body: JSON.stringify({ device: 'epson-rt', url: urls[i] }),
    })
    if (reply.status !== 200)
      throw new Error(`PUT /it/v1/cashbox answered ${reply.status}: ${await reply.text()}`)
  }
  await startCashboxes(server, cashboxes, '0x4954200000004001', 'start receipts of the IT cash boxes')
}

async function startDevices(count: number): Promise<{ server: Server; urls: string[] }> {
  const server = await startServer(
    'it-simulators',
    ['--import', 'tsx', 'bench/it-simulators.ts', String(count), String(DEVICE_LATENCY_MS)],
    {},
  )
  const line = server.output.find((l) => l.startsWith('devices '))
  if (!line) throw new Error(`it-simulators printed no devices: ${server.output.join('\n')}`)
  return { server, urls: JSON.parse(line.slice('devices '.length)) as string[] }
}

export async function itBench(
  dataDir: string,
  settings: { durationS: number; warmupS: number; connections: number; quick: boolean },
  serverOptions: ServerOptions,
): Promise<ItResult> {
  const genericCount = settings.quick ? 9 : 30
  const itCount = settings.quick ? 4 : 20
  step(
    `it: 1 IT cash box on 1 simulated RT printer (${DEVICE_LATENCY_MS} ms a document), then ${genericCount} generic cash boxes alone and beside ${itCount} IT cash boxes on ${itCount} printers (${dataDir})`,
  )
  const devices = await startDevices(itCount + 1)
  try {
    const generic = await createCashboxes(dataDir, genericCount)
    const italian = await createCashboxes(dataDir, itCount + 1, 'IT')
    const server = await startFiscalbox(dataDir, serverOptions)
    try {
      await startCashboxes(server, generic)
      await configureDevices(server, italian, devices.urls)
      const [single, ...many] = italian as [BenchCashbox, ...BenchCashbox[]]
      // As many connections as IT cash boxes: a till waits for its printer before its next receipt.
      const itLoad = (label: string, durationS: number, boxes: BenchCashbox[]) =>
        runLoad({
          label,
          url: server.url,
          connections: boxes.length,
          durationS,
          requests: signRequests(boxes, label, itSale),
        })
      const genericLoad = genericSignLoad(server, generic, settings.connections)
      await itLoad('it: one cash box (warm-up)', settings.warmupS, [single])
      const loadOne = loadavg()
      const one = await itLoad('it: one cash box on one device', settings.durationS, [single])
      step(
        `  one IT cash box: ${one.okPerSecond.toFixed(2)} receipts/s (device pace ${(1000 / DEVICE_LATENCY_MS).toFixed(2)}/s), p50 ${one.latencyMs.p50.toFixed(1)} ms, p99 ${one.latencyMs.p99.toFixed(1)} ms, non-2xx ${one.non2xx} (load average ${loadOne.map((x) => x.toFixed(2)).join(', ')})`,
      )
      await genericLoad('it: generic alone (warm-up)', settings.warmupS)
      const loadAlone = loadavg()
      const alone = await genericLoad('it: generic alone', settings.durationS)
      await Promise.all([
        genericLoad('it: generic beside (warm-up)', settings.warmupS),
        itLoad('it: IT cash boxes (warm-up)', settings.warmupS, many),
      ])
      const loadTogether = loadavg()
      const simulatorBefore = cpuSeconds(devices.server.pid)
      const [together, itResult] = await Promise.all([
        genericLoad('it: generic beside the IT cash boxes', settings.durationS),
        itLoad('it: IT cash boxes', settings.durationS, many),
      ])
      const simulatorAfter = cpuSeconds(devices.server.pid)
      const simulatorCpuMicros =
        simulatorBefore !== undefined && simulatorAfter !== undefined && itResult.ok > 0
          ? ((simulatorAfter - simulatorBefore) / itResult.ok) * 1e6
          : null
      const share = together.okPerSecond / alone.okPerSecond
      step(
        `  generic alone ${Math.round(alone.okPerSecond)} req/s, beside ${many.length} IT cash boxes ${Math.round(together.okPerSecond)} req/s (${(share * 100).toFixed(1)} %); IT ${itResult.okPerSecond.toFixed(1)} receipts/s, p99 ${itResult.latencyMs.p99.toFixed(0)} ms, non-2xx ${itResult.non2xx} (load average ${loadTogether.map((x) => x.toFixed(2)).join(', ')})`,
      )
      return {
        measuredAt: new Date().toISOString(),
        deviceLatencyMs: DEVICE_LATENCY_MS,
        one,
        genericCashboxes: generic.length,
        itCashboxes: many.length,
        alone,
        together,
        it: itResult,
        share,
        simulatorCpuMicros,
        loadAverage: { one: loadOne, alone: loadAlone, together: loadTogether },
      }
    } finally {
      await server.stop()
    }
  } finally {
    await devices.server.stop()
  }
}

const verdict = (met: boolean) => (met ? 'met' : 'MISSED')
const micros = (value: number | null | undefined) =>
  value === null || value === undefined ? 'n/a' : `${Math.round(value).toLocaleString('en')} µs`
const load = (values: number[]) => values.map((x) => x.toFixed(2)).join(', ')

/** Rows of the results table (bench/report.ts). */
export function itRows(r: ItResult): string[][] {
  const pace = 1000 / r.deviceLatencyMs
  const p99Limit = r.deviceLatencyMs + IT_TARGETS.p99MarginMs
  return [
    [
      `IT /v2/sign, 1 cash box on 1 simulated RT printer (${r.deviceLatencyMs} ms a document)`,
      `${r.one.okPerSecond.toFixed(2)} receipts/s, p99 ${r.one.latencyMs.p99.toFixed(1)} ms`,
      `device pace ${pace.toFixed(2)}/s (${((r.one.okPerSecond / pace) * 100).toFixed(1)} %), p50 ${r.one.latencyMs.p50.toFixed(1)} ms, non-2xx ${r.one.non2xx}; load average ${load(r.loadAverage.one)}`,
      `p99 ≤ ${p99Limit} ms ${verdict(r.one.latencyMs.p99 <= p99Limit)}`,
    ],
    [
      `generic /v2/sign, ${r.genericCashboxes} cash boxes, beside ${r.itCashboxes} IT cash boxes on ${r.itCashboxes} RT printers`,
      `${Math.round(r.together.okPerSecond)} req/s (alone ${Math.round(r.alone.okPerSecond)})`,
      `${(r.share * 100).toFixed(1)} % of their throughput alone; IT ${r.it.okPerSecond.toFixed(1)} receipts/s, p99 ${r.it.latencyMs.p99.toFixed(0)} ms, simulators' CPU ${micros(r.simulatorCpuMicros)} per IT receipt on the same cores, non-2xx ${r.it.non2xx + r.together.non2xx}; load average ${load(r.loadAverage.together)}`,
      `≥ ${IT_TARGETS.share * 100} % ${verdict(r.share >= IT_TARGETS.share)}`,
    ],
  ]
}

export const itMethod = (r: ItResult | undefined) =>
  `- *Italy* (\`npm run bench -- it\`): the real \`fiscalbox serve\`; the RT printers are \`startItSimulator\` devices (the code of \`fiscalbox it-simulator\`, ${r?.deviceLatencyMs ?? DEVICE_LATENCY_MS} ms a document, the published Epson RT server figure), all in one child process (bench/it-simulators.ts), each on its own port with its own serial. IT cash boxes made with \`fiscalbox cashbox create --country IT\`, each configured with its own device (PUT /it/v1/cashbox) and started. First one IT cash box on one connection (a till waits for its printer) for the measured duration: receipts per second against the device's pace, and /v2/sign's p99. Then ${r?.genericCashboxes ?? 30} generic cash boxes under full load (the throughput settings) alone, and again while ${r?.itCashboxes ?? 20} IT cash boxes on ${r?.itCashboxes ?? 20} devices sign on as many connections; both with the same warm-up and duration. The share is the generic 200 answers per second beside the IT cash boxes over those alone.${r ? ` Measured on ${r.measuredAt.slice(0, 10)}, load average ${load(r.loadAverage.one)} (one cash box), ${load(r.loadAverage.alone)} (generic alone), ${load(r.loadAverage.together)} (together).` : ''}`
