import { existsSync, readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { createCashboxes, databaseEnv, signRequests, startCashboxes } from './fiscalbox.ts'
import { percentiles } from './load.ts'
import { cpuSeconds, startServer } from './processes.ts'
import { endStatus, status, step } from './terminal.ts'

/**
 * The soak: the real server at a steady rate for many minutes, measured in windows. A leak shows as a live
 * heap (the smallest heapUsed of a window, i.e. after a collection) that keeps rising; a slow path that grows
 * with the journal shows as a p99 that keeps rising. The first window is warm-up and left out of the verdicts.
 */
export interface SoakWindow {
  startS: number
  ok: number
  other: number
  p50Ms: number
  p99Ms: number
  rssMiB: number
  liveHeapMiB: number
}

export interface SoakResult {
  measuredAt: string
  minutes: number
  rate: number
  connections: number
  cashboxes: number
  ok: number
  other: number
  errors: number
  serverCpuMicros: number | null
  loadAverageAtStart: number[]
  windows: SoakWindow[]
  /** Medians of the first and the last third of the windows after warm-up. */
  liveHeapMiB: { first: number; last: number }
  rssMiB: { first: number; last: number }
  p99Ms: { first: number; last: number }
  memoryFlat: boolean
  p99Flat: boolean
}

export interface SoakOptions {
  dataDir: string
  minutes: number
  rate: number
  connections: number
  cashboxes: number
  windowS: number
}

const MiB = 1024 * 1024
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? Number.NaN : (sorted[Math.floor((sorted.length - 1) / 2)] as number)
}

export async function soak(o: SoakOptions): Promise<SoakResult> {
  const loadAverageAtStart = loadavg().map((n) => Math.round(n * 100) / 100)
  const cashboxes = await createCashboxes(o.dataDir, o.cashboxes)
  const heapFile = join(o.dataDir, 'heap.jsonl')
  const server = await startServer(
    'fiscalbox',
    ['--import', 'tsx', '--import', './bench/heap-probe.ts', 'src/cli/main.ts', 'serve'],
    { ...databaseEnv(o.dataDir), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', SOAK_HEAP_FILE: heapFile },
  )
  try {
    await startCashboxes(server, cashboxes)
    const durationS = Math.round(o.minutes * 60)
    const windows = Math.max(1, Math.ceil(durationS / o.windowS))
    const latencies: number[][] = Array.from({ length: windows }, () => [])
    const other = new Array<number>(windows).fill(0)
    const started = Date.now()
    const cpuBefore = cpuSeconds(server.pid)
    const instance = autocannon({
      url: server.url,
      connections: o.connections,
      duration: durationS,
      overallRate: o.rate,
      timeout: 30,
      requests: signRequests(cashboxes, 'soak'),
    })
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      const w = Math.min(windows - 1, Math.floor((Date.now() - started) / 1000 / o.windowS))
      if (statusCode === 200) latencies[w]?.push(responseTime)
      else other[w] = (other[w] ?? 0) + 1
    })
    let seconds = 0
    instance.on('tick', () => {
      seconds += 1
      status(`  soak: ${seconds} / ${durationS} s at ${o.rate} req/s`)
    })
    const result = await instance
    endStatus()
    const cpuAfter = cpuSeconds(server.pid)
    const samples = existsSync(heapFile)
      ? readFileSync(heapFile, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { at: number; rss: number; heapUsed: number })
      : []
    const perWindow: SoakWindow[] = latencies.map((values, w) => {
      const inWindow = samples.filter((s) => Math.floor((s.at - started) / 1000 / o.windowS) === w)
      const p = percentiles(values)
      return {
        startS: w * o.windowS,
        ok: values.length,
        other: other[w] ?? 0,
        p50Ms: round(p.p50),
        p99Ms: round(p.p99),
        rssMiB: round(Math.max(0, ...inWindow.map((s) => s.rss)) / MiB),
        liveHeapMiB: round(Math.min(Number.POSITIVE_INFINITY, ...inWindow.map((s) => s.heapUsed)) / MiB),
      }
    })
    const measured = perWindow.slice(1)
    const third = Math.max(1, Math.floor(measured.length / 3))
    const firstThird = measured.slice(0, third)
    const lastThird = measured.slice(-third)
    const pair = (key: 'liveHeapMiB' | 'rssMiB' | 'p99Ms') => ({
      first: median(firstThird.map((w) => w[key])),
      last: median(lastThird.map((w) => w[key])),
    })
    const liveHeapMiB = pair('liveHeapMiB')
    const p99Ms = pair('p99Ms')
    const ok = perWindow.reduce((sum, w) => sum + w.ok, 0)
    return {
      measuredAt: new Date().toISOString(),
      minutes: o.minutes,
      rate: o.rate,
      connections: o.connections,
      cashboxes: o.cashboxes,
      ok,
      other: perWindow.reduce((sum, w) => sum + w.other, 0),
      errors: result.errors + result.timeouts,
      serverCpuMicros:
        cpuBefore !== undefined && cpuAfter !== undefined && ok > 0
          ? round(((cpuAfter - cpuBefore) / ok) * 1e6)
          : null,
      loadAverageAtStart,
      windows: perWindow,
      liveHeapMiB,
      rssMiB: pair('rssMiB'),
      p99Ms,
      // A leak grows with every request; a heap that settles moves by a few MiB at most.
      memoryFlat: liveHeapMiB.last <= liveHeapMiB.first * 1.1 + 4,
      p99Flat: p99Ms.last <= p99Ms.first * 1.5 + 1,
    }
  } finally {
    await server.stop()
    step('soak: server stopped')
  }
}

const round = (n: number) => (Number.isFinite(n) ? Math.round(n * 100) / 100 : Number.NaN)
