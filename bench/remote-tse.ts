import { loadavg } from 'node:os'
import {
  type BenchCashbox,
  createCashboxes,
  genericSignLoad,
  databaseEnv,
  type ServerOptions,
  type SharePartSettings,
  signHeaders,
  signRequests,
  startCashboxes,
  startFiscalbox,
} from './fiscalbox.ts'
import { type LoadResult, runLoad } from './load.ts'
import { runCli, type Server, startServer } from './processes.ts'
import { step } from './terminal.ts'

/**
 * Germany on a certified cloud TSE: DE cash boxes sign on a remote TSE (a second `fiscalbox serve` serving
 * SIGN DE v2) behind a proxy that adds a cloud TSE's latency to every exchange. 20 DE cash boxes on one
 * connection each (a till waits for its receipt): start/finish pairs per second and /v2/sign's p99; and the
 * generic cash boxes of the same node keep at least 90 % of their throughput alone.
 */
export interface RemoteTseResult {
  measuredAt: string
  latencyMs: number
  deCashboxes: number
  genericCashboxes: number
  alone: LoadResult
  together: LoadResult
  de: LoadResult
  /** Generic receipts/s beside the DE cash boxes / alone. */
  share: number
  loadAverage: { alone: number[]; together: number[] }
}

export const REMOTE_TSE_TARGETS = { share: 0.9 } as const
const LATENCY_MS = 100

const deSale = (reference: string) =>
  `{"cbReceiptReference":"${reference}","cbReceiptMoment":"${new Date().toISOString()}","ftReceiptCase":"0x4445200100000001","cbChargeItems":[{"Quantity":1,"Description":"Kaffee","Amount":2.5,"VATRate":19,"ftChargeItemCase":"0x4445200000000003"}],"cbPayItems":[{"Description":"Bar","Amount":2.5,"ftPayItemCase":"0x4445200000000001"}]}`

/** Each DE cash box gets a TSS and client of its own on the remote TSE (PUT /de/v1/remote-tse), then its start receipt. */
async function configureRemote(
  server: Server,
  cashboxes: BenchCashbox[],
  tse: { url: string; apiKey: string; apiSecret: string },
): Promise<void> {
  for (const cashbox of cashboxes) {
    const reply = await fetch(`${server.url}/de/v1/remote-tse`, {
      method: 'PUT',
      headers: signHeaders(cashbox),
      body: JSON.stringify({ base_url: tse.url, api_key: tse.apiKey, api_secret: tse.apiSecret }),
    })
    if (reply.status !== 200)
      throw new Error(`PUT /de/v1/remote-tse answered ${reply.status}: ${await reply.text()}`)
  }
  await startCashboxes(server, cashboxes, '0x4445200000004001', 'start receipts of the DE cash boxes')
}

export async function remoteTseBench(
  dataDir: string,
  remoteDir: string,
  settings: SharePartSettings,
  serverOptions: ServerOptions,
): Promise<RemoteTseResult> {
  const [genericCount, deCount] = settings.quick ? [9, 4] : [30, 20]
  step(
    `remote-tse: ${genericCount} generic cash boxes alone and beside ${deCount} DE cash boxes on a remote TSE (${LATENCY_MS} ms a call) (${dataDir})`,
  )
  const credentials = JSON.parse(
    await runCli(['sign-de', 'credentials', 'create', '--json'], databaseEnv(remoteDir)),
  ) as { api_key: string; api_secret: string }
  const tse = await startFiscalbox(remoteDir, serverOptions)
  try {
    const proxy = await startServer(
      'tse-latency-proxy',
      ['--import', 'tsx', 'bench/tse-latency-proxy.ts', tse.url, String(LATENCY_MS)],
      {},
    )
    try {
      const generic = await createCashboxes(dataDir, genericCount)
      const german = await createCashboxes(dataDir, deCount, 'DE')
      const server = await startFiscalbox(dataDir, serverOptions)
      try {
        await startCashboxes(server, generic)
        await configureRemote(server, german, {
          url: proxy.url,
          apiKey: credentials.api_key,
          apiSecret: credentials.api_secret,
        })
        const deLoad = (label: string, durationS: number) =>
          runLoad({
            label,
            url: server.url,
            connections: german.length,
            durationS,
            requests: signRequests(german, label, deSale),
          })
        const genericLoad = genericSignLoad(server, generic, settings.connections)
        await genericLoad('remote-tse: generic alone (warm-up)', settings.warmupS)
        const loadAlone = loadavg()
        const alone = await genericLoad('remote-tse: generic alone', settings.durationS)
        await Promise.all([
          genericLoad('remote-tse: generic beside (warm-up)', settings.warmupS),
          deLoad('remote-tse: DE cash boxes (warm-up)', settings.warmupS),
        ])
        const loadTogether = loadavg()
        const [together, de] = await Promise.all([
          genericLoad('remote-tse: generic beside the DE cash boxes', settings.durationS),
          deLoad('remote-tse: DE cash boxes on the remote TSE', settings.durationS),
        ])
        const share = together.okPerSecond / alone.okPerSecond
        step(
          `  generic alone ${Math.round(alone.okPerSecond)} req/s, beside ${german.length} DE cash boxes ${Math.round(together.okPerSecond)} req/s (${(share * 100).toFixed(1)} %); DE ${de.okPerSecond.toFixed(1)} pairs/s, p99 ${de.latencyMs.p99.toFixed(0)} ms, non-2xx ${de.non2xx}`,
        )
        return {
          measuredAt: new Date().toISOString(),
          latencyMs: LATENCY_MS,
          deCashboxes: german.length,
          genericCashboxes: generic.length,
          alone,
          together,
          de,
          share,
          loadAverage: { alone: loadAlone, together: loadTogether },
        }
      } finally {
        await server.stop()
      }
    } finally {
      await proxy.stop()
    }
  } finally {
    await tse.stop()
  }
}

const load = (values: number[]) => values.map((x) => x.toFixed(2)).join(', ')

/** Rows of the results table (bench/report.ts). */
export function remoteTseRows(r: RemoteTseResult): string[][] {
  return [
    [
      `DE /v2/sign on a remote TSE (${r.latencyMs} ms a call), ${r.deCashboxes} cash boxes`,
      `${r.de.okPerSecond.toFixed(1)} start/finish pairs/s, p99 ${r.de.latencyMs.p99.toFixed(0)} ms`,
      `p50 ${r.de.latencyMs.p50.toFixed(0)} ms, non-2xx ${r.de.non2xx}; load average ${load(r.loadAverage.together)}`,
      '',
    ],
    [
      `generic /v2/sign, ${r.genericCashboxes} cash boxes, beside ${r.deCashboxes} DE cash boxes on a remote TSE`,
      `${Math.round(r.together.okPerSecond)} req/s (alone ${Math.round(r.alone.okPerSecond)})`,
      `${(r.share * 100).toFixed(1)} % of their throughput alone, non-2xx ${r.together.non2xx}; load average ${load(r.loadAverage.alone)} (alone)`,
      `≥ ${REMOTE_TSE_TARGETS.share * 100} % ${r.share >= REMOTE_TSE_TARGETS.share ? 'met' : 'MISSED'}`,
    ],
  ]
}

export const remoteTseMethod = (r: RemoteTseResult | undefined) =>
  `- *Germany on a remote TSE* (\`npm run bench -- remote-tse\`): a second \`fiscalbox serve\` on its own database serves SIGN DE v2 as the remote TSE, behind bench/tse-latency-proxy.ts (its own process) that adds ${r?.latencyMs ?? LATENCY_MS} ms to every exchange. ${r?.deCashboxes ?? 20} DE cash boxes, each with its own TSS and client on the remote (PUT /de/v1/remote-tse) and started, sign on one connection each (a till waits for its receipt): each receipt is a start and a finish on the remote TSE. ${r?.genericCashboxes ?? 30} generic cash boxes under full load alone, then beside them; the share is the generic 200 answers per second beside the DE cash boxes over those alone.${r ? ` Measured on ${r.measuredAt.slice(0, 10)}.` : ''}`
