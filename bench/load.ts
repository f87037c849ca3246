import autocannon, { type Request } from 'autocannon'
import { cpuSeconds } from './processes.ts'
import { endStatus, status } from './terminal.ts'

export interface LoadOptions {
  label: string
  url: string
  connections: number
  durationS: number
  /** Requests per second over all connections (autocannon overallRate); open throttle when absent. */
  overallRate?: number
  method?: string
  path?: string
  requests?: Request[]
  /** The server's process id: its CPU time during the run is reported per 200 answer. */
  serverPid?: number
  /** The status that counts as done work (default 200; POST /v1/transactions answers 201). */
  okStatus?: number
}

export interface Percentiles {
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
}

export interface LoadResult {
  durationS: number
  connections: number
  overallRate: number | null
  /** Answers with status 200: the only ones counted as done work. */
  ok: number
  okPerSecond: number
  /** Answers with any status other than 2xx. */
  non2xx: number
  statusCodes: Record<string, number>
  errors: number
  timeouts: number
  /** Latency of the 200 answers in ms, from the exact times autocannon measured (not its 1 ms histogram). */
  latencyMs: Percentiles
  /** Server CPU time (user + system, all its threads) per 200 answer, in µs; null where /proc is missing. */
  serverCpuMicros: number | null
  /**
   * CPU time of the load generator (this process: autocannon, the request set-up, the progress line) per
   * counted answer, in µs. It shares the machine with the server, so it bounds what the server can get.
   */
  clientCpuMicros: number | null
}

/** Nearest-rank percentiles over every recorded latency. */
export function percentiles(values: number[]): Percentiles {
  if (values.length === 0)
    return { p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN }
  const sorted = Float64Array.from(values).sort()
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  const sum = sorted.reduce((a, b) => a + b, 0)
  return { p50: at(50), p90: at(90), p99: at(99), max: at(100), mean: sum / sorted.length }
}

/** One autocannon run in this process; the progress line shows the answers per second as they come. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = []
  const instance = autocannon({
    url: o.path ? new URL(o.path, o.url).toString() : o.url,
    connections: o.connections,
    duration: o.durationS,
    timeout: 30,
    method: o.method ?? 'GET',
    ...(o.overallRate ? { overallRate: o.overallRate, ignoreCoordinatedOmission: true } : {}),
    ...(o.requests ? { requests: o.requests } : {}),
  })
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (statusCode === (o.okStatus ?? 200)) latencies.push(responseTime)
  })
  const cpuBefore = o.serverPid ? cpuSeconds(o.serverPid) : undefined
  const clientBefore = process.cpuUsage()
  let seconds = 0
  instance.on('tick', (tick: { counter: number }) => {
    seconds += 1
    status(
      `  ${o.label}: ${seconds} / ${o.durationS} s, ${tick.counter.toLocaleString('en')} answers in the last second`,
    )
  })
  const result = await instance
  const cpuAfter = o.serverPid ? cpuSeconds(o.serverPid) : undefined
  const client = process.cpuUsage(clientBefore)
  endStatus()
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]),
  )
  const ok = statusCodes[String(o.okStatus ?? 200)] ?? 0
  return {
    durationS: result.duration,
    connections: o.connections,
    overallRate: o.overallRate ?? null,
    ok,
    okPerSecond: ok / result.duration,
    non2xx: result.non2xx,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs: percentiles(latencies),
    serverCpuMicros:
      cpuBefore !== undefined && cpuAfter !== undefined && ok > 0
        ? ((cpuAfter - cpuBefore) / ok) * 1e6
        : null,
    clientCpuMicros: ok > 0 ? (client.user + client.system) / ok : null,
  }
}
