import { randomUUID } from 'node:crypto'
import type { Request } from 'autocannon'
import { databaseEnv, type ServerOptions, startFiscalbox } from './fiscalbox.ts'
import { type LoadResult, runLoad } from './load.ts'
import { runCli, type Server } from './processes.ts'
import { counter, step } from './terminal.ts'

/** Target (docs/benchmarks.md): start+finish pairs per second on one node across 20 TSS. */
export const DE_TARGETS = { pairsPerSecond: 1000 }

export interface DePairsRun {
  tss: number
  load: LoadResult
  pairsPerSecond: number
  /** Server CPU time per start+finish pair, µs. */
  cpuMicrosPerPair: number | null
}

export interface DeResult {
  measuredAt: string
  one: DePairsRun
  twenty: DePairsRun
}

interface BenchTss {
  tssId: string
  clientId: string
}

async function call(server: Server, token: string, method: string, path: string, body: unknown) {
  const response = await fetch(`${server.url}/api/v2${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  })
  const json = (await response.json()) as Record<string, unknown>
  if (response.status !== 200)
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`)
  return json
}

/** The documented set-up order of the SIGN DE API, through HTTP, for each TSS. */
async function setUpTss(server: Server, token: string, count: number): Promise<BenchTss[]> {
  const shown = counter('setting up TSS through /api/v2', count)
  const made: BenchTss[] = []
  for (let i = 0; i < count; i++) {
    const tssId = randomUUID()
    const clientId = randomUUID()
    const created = await call(server, token, 'PUT', `/tss/${tssId}`, {})
    await call(server, token, 'PATCH', `/tss/${tssId}`, { state: 'UNINITIALIZED' })
    await call(server, token, 'PATCH', `/tss/${tssId}/admin`, {
      admin_puk: created.admin_puk,
      new_admin_pin: '123456',
    })
    await call(server, token, 'POST', `/tss/${tssId}/admin/auth`, { admin_pin: '123456' })
    await call(server, token, 'PATCH', `/tss/${tssId}`, { state: 'INITIALIZED' })
    await call(server, token, 'PUT', `/tss/${tssId}/client/${clientId}`, { serial_number: `POS-${i + 1}` })
    await call(server, token, 'POST', `/tss/${tssId}/admin/logout`, {})
    made.push({ tssId, clientId })
    shown.update(made.length)
  }
  shown.done()
  return made
}

const FINISH_SCHEMA = {
  standard_v1: {
    receipt: {
      receipt_type: 'RECEIPT',
      amounts_per_vat_rate: [{ vat_rate: 'NORMAL', amount: '3.50' }],
      amounts_per_payment_type: [{ payment_type: 'CASH', amount: '3.50' }],
    },
  },
}

/**
 * Each autocannon connection runs start (tx_revision=1), finish (tx_revision=2), start, finish, ... of
 * its own transactions on one TSS; connections are spread over the TSS in turn.
 */
function pairRequests(token: string, tss: BenchTss[]): Request[] {
  let connections = 0
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` }
  type Context = { tss?: BenchTss; txId?: string }
  return [
    {
      method: 'PUT',
      setupRequest: (request, context: Context) => {
        context.tss ??= tss[connections++ % tss.length] as BenchTss
        context.txId = randomUUID()
        return {
          ...request,
          method: 'PUT',
          path: `/api/v2/tss/${context.tss.tssId}/tx/${context.txId}?tx_revision=1`,
          headers,
          body: JSON.stringify({ state: 'ACTIVE', client_id: context.tss.clientId }),
        }
      },
    },
    {
      method: 'PUT',
      setupRequest: (request, context: Context) => ({
        ...request,
        method: 'PUT',
        path: `/api/v2/tss/${context.tss?.tssId}/tx/${context.txId}?tx_revision=2`,
        headers,
        body: JSON.stringify({ state: 'FINISHED', client_id: context.tss?.clientId, schema: FINISH_SCHEMA }),
      }),
    },
  ]
}

export async function deBench(
  dataDir: (label: string) => string,
  settings: { durationS: number; warmupS: number; connections: number },
  serverOptions: ServerOptions,
): Promise<DeResult> {
  const run = async (tssCount: number): Promise<DePairsRun> => {
    const dir = dataDir(`de-${tssCount}`)
    step(
      `de: start+finish pairs on ${tssCount} TSS through /api/v2, ${settings.connections} connections (${dir})`,
    )
    const credentials = JSON.parse(
      await runCli(['sign-de', 'credentials', 'create', '--json'], databaseEnv(dir)),
    ) as { api_key: string; api_secret: string }
    const server = await startFiscalbox(dir, serverOptions)
    try {
      const auth = await fetch(`${server.url}/api/v2/auth`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(credentials),
      })
      const { access_token: token } = (await auth.json()) as { access_token: string }
      const tss = await setUpTss(server, token, tssCount)
      const options = {
        label: `/api/v2 pairs on ${tssCount} TSS`,
        url: server.url,
        connections: settings.connections,
        serverPid: server.pid,
        requests: pairRequests(token, tss),
      }
      await runLoad({ ...options, label: `${options.label} (warm-up)`, durationS: settings.warmupS })
      const load = await runLoad({ ...options, durationS: settings.durationS })
      const pairsPerSecond = load.okPerSecond / 2
      const cpuMicrosPerPair = load.serverCpuMicros === null ? null : load.serverCpuMicros * 2
      step(
        `  ${tssCount} TSS: ${Math.round(pairsPerSecond)} pairs/s, server CPU ${cpuMicrosPerPair?.toFixed(0)} µs per pair, p99 ${load.latencyMs.p99.toFixed(1)} ms, non-2xx ${load.non2xx}, errors ${load.errors}`,
      )
      return { tss: tssCount, load, pairsPerSecond, cpuMicrosPerPair }
    } finally {
      await server.stop()
    }
  }
  const one = await run(1)
  const twenty = await run(20)
  return { measuredAt: new Date().toISOString(), one, twenty }
}
