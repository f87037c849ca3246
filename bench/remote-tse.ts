import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { loadavg } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'
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
import { cpuSeconds, machineCpuSeconds, runCli, type Server, startServer } from './processes.ts'
import { step } from './terminal.ts'

/**
 * Germany on a certified cloud TSE: DE cash boxes sign on a remote TSE (a second `fiscalbox serve` serving
 * SIGN DE v2) behind a proxy that adds a cloud TSE's latency to every exchange. 20 DE cash boxes on one
 * connection each (a till waits for its receipt): start/finish pairs per second and /v2/sign's p99; and the
 * generic cash boxes of the same node keep at least 90 % of their throughput alone. In production the remote
 * TSE is another company's machine: here it shares the cores, so each process's CPU is measured apart.
 */
export interface RemoteTseResult {
  measuredAt: string
  latencyMs: number
  deCashboxes: number
  genericCashboxes: number
  /** Where the remote TSE's database was: memory (/dev/shm), off the disk that the node's WAL syncs to. */
  remoteStorage: 'memory' | 'disk'
  alone: LoadResult
  /** The DE cash boxes with no generic load: the node's CPU and commits per DE receipt. */
  deAlone: LoadResult
  together: LoadResult
  de: LoadResult
  /** idle: no load, the node's own background work (job polls, checkpoints), taken off the DE-alone figures. */
  phases: { idle: Phase; alone: Phase; deAlone: Phase; together: Phase }
  /** Generic receipts/s beside the DE cash boxes / alone. */
  share: number
  /** The generic throughput share the node's CPU allows: cpuFigures. */
  cpuShare: number | null
  loadAverage: { alone: number[]; together: number[] }
}

/** CPU seconds (user + system) of each process over one measured run. */
export interface ProcessCpu {
  node: number
  remoteTse: number
  proxy: number
  /** The bench process: autocannon for every load and the request set-up. */
  loadGenerator: number
  /** Every process on the machine (/proc/stat), the bench's own and other work. */
  machine: number
}

/** Durable commits (one fdatasync of the WAL each) and the units of work they held. */
export interface Commits {
  commits: number
  units: number
}

export interface Phase {
  seconds: number
  cpu: ProcessCpu
  nodeCommits: Commits
  remoteCommits: Commits
  loadAverage: number[]
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

/** A folder in memory (tmpfs) when the machine has one: the remote TSE's disk is not the node's in production. */
const memoryFolder = () => (existsSync('/dev/shm') ? '/dev/shm' : undefined)

/** The group commit's counters of a server, from GET /metrics (fiscalbox_db_commit_units). */
async function commitsOf(server: Server, token: string): Promise<Commits> {
  const text = await (
    await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
  ).text()
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)
  return {
    commits: value('fiscalbox_db_commit_units_count'),
    units: value('fiscalbox_db_commit_units_sum'),
  }
}

interface Processes {
  node: Server
  remoteTse: Server
  proxy: Server
  token: string
}

/** Runs `load` and measures every process's CPU and both servers' commits over it. */
async function measured<T>(
  processes: Processes,
  load: () => Promise<T>,
): Promise<{ value: T; phase: Phase }> {
  const { node, remoteTse, proxy, token } = processes
  const servers = [node, remoteTse, proxy]
  const nodeBefore = await commitsOf(node, token)
  const remoteBefore = await commitsOf(remoteTse, token)
  const loadAverage = loadavg()
  const started = performance.now()
  const cpuBefore = servers.map((s) => cpuSeconds(s.pid) ?? Number.NaN)
  const machineBefore = machineCpuSeconds() ?? Number.NaN
  const selfBefore = process.cpuUsage()
  const value = await load()
  const self = process.cpuUsage(selfBefore)
  const machine = (machineCpuSeconds() ?? Number.NaN) - machineBefore
  const [nodeCpu, remoteCpu, proxyCpu] = servers.map(
    (s, i) => (cpuSeconds(s.pid) ?? Number.NaN) - (cpuBefore[i] ?? Number.NaN),
  ) as [number, number, number]
  const seconds = (performance.now() - started) / 1000
  const difference = (after: Commits, before: Commits): Commits => ({
    commits: after.commits - before.commits,
    units: after.units - before.units,
  })
  return {
    value,
    phase: {
      seconds,
      cpu: {
        node: nodeCpu,
        remoteTse: remoteCpu,
        proxy: proxyCpu,
        loadGenerator: (self.user + self.system) / 1e6,
        machine,
      },
      nodeCommits: difference(await commitsOf(node, token), nodeBefore),
      remoteCommits: difference(await commitsOf(remoteTse, token), remoteBefore),
      loadAverage,
    },
  }
}

export async function remoteTseBench(
  fresh: (label: string, parent?: string) => string,
  settings: SharePartSettings,
  serverOptions: ServerOptions,
): Promise<RemoteTseResult> {
  const [genericCount, deCount] = settings.quick ? [9, 4] : [30, 20]
  const dataDir = fresh('remote-tse')
  const memory = memoryFolder()
  const remoteDir = fresh('remote-tse-tse', memory)
  step(
    `remote-tse: ${genericCount} generic cash boxes alone, ${deCount} DE cash boxes on a remote TSE (${LATENCY_MS} ms a call) alone, then both (${dataDir}; the remote TSE's in ${remoteDir})`,
  )
  const token = randomBytes(24).toString('hex')
  const options = { ...serverOptions, env: { ...serverOptions.env, METRICS_TOKEN: token } }
  const credentials = JSON.parse(
    await runCli(['sign-de', 'credentials', 'create', '--json'], databaseEnv(remoteDir)),
  ) as { api_key: string; api_secret: string }
  const tse = await startFiscalbox(remoteDir, options)
  try {
    const proxy = await startServer(
      'tse-latency-proxy',
      ['--import', 'tsx', 'bench/tse-latency-proxy.ts', tse.url, String(LATENCY_MS)],
      {},
    )
    try {
      const generic = await createCashboxes(dataDir, genericCount)
      const german = await createCashboxes(dataDir, deCount, 'DE')
      const server = await startFiscalbox(dataDir, options)
      try {
        await startCashboxes(server, generic)
        await configureRemote(server, german, {
          url: proxy.url,
          apiKey: credentials.api_key,
          apiSecret: credentials.api_secret,
        })
        const processes = { node: server, remoteTse: tse, proxy, token }
        const deLoad = (label: string, durationS: number) =>
          runLoad({
            label,
            url: server.url,
            connections: german.length,
            durationS,
            requests: signRequests(german, label, deSale),
          })
        const genericLoad = genericSignLoad(server, generic, settings.connections)
        const idle = await measured(processes, () => delay(Math.min(settings.durationS, 10) * 1000))
        await genericLoad('remote-tse: generic alone (warm-up)', settings.warmupS)
        const alone = await measured(processes, () =>
          genericLoad('remote-tse: generic alone', settings.durationS),
        )
        await deLoad('remote-tse: DE cash boxes alone (warm-up)', settings.warmupS)
        const deAlone = await measured(processes, () =>
          deLoad('remote-tse: DE cash boxes alone', settings.durationS),
        )
        await Promise.all([
          genericLoad('remote-tse: generic beside (warm-up)', settings.warmupS),
          deLoad('remote-tse: DE cash boxes (warm-up)', settings.warmupS),
        ])
        const together = await measured(processes, () =>
          Promise.all([
            genericLoad('remote-tse: generic beside the DE cash boxes', settings.durationS),
            deLoad('remote-tse: DE cash boxes on the remote TSE', settings.durationS),
          ]),
        )
        const [beside, de] = together.value
        const result: RemoteTseResult = {
          measuredAt: new Date().toISOString(),
          latencyMs: LATENCY_MS,
          deCashboxes: german.length,
          genericCashboxes: generic.length,
          remoteStorage: memory ? 'memory' : 'disk',
          alone: alone.value,
          deAlone: deAlone.value,
          together: beside,
          de,
          phases: { idle: idle.phase, alone: alone.phase, deAlone: deAlone.phase, together: together.phase },
          share: beside.okPerSecond / alone.value.okPerSecond,
          cpuShare: null,
          loadAverage: { alone: alone.phase.loadAverage, together: together.phase.loadAverage },
        }
        const figures = cpuFigures(result)
        result.cpuShare = figures.cpuShare
        step(
          `  generic alone ${Math.round(alone.value.okPerSecond)} req/s, beside ${german.length} DE cash boxes ${Math.round(beside.okPerSecond)} req/s (${pct(result.share)}); DE ${de.okPerSecond.toFixed(1)} pairs/s (alone ${deAlone.value.okPerSecond.toFixed(1)}), p99 ${de.latencyMs.p99.toFixed(0)} ms, non-2xx ${de.non2xx}`,
        )
        step(
          `  node CPU per generic receipt ${micros(figures.genericAlone)} alone, ${micros(figures.genericBeside)} beside with the DE receipts' counted; per DE receipt ${micros(figures.nodePerDe)} beside, ${micros(figures.nodePerDeAlone)} alone; generic share of the node's CPU ${figures.cpuShare === null ? 'n/a' : pct(figures.cpuShare)}; remote TSE + proxy ${micros(figures.remotePerDe)} per DE receipt; per DE receipt alone ${figures.commitsPerDe.toFixed(2)} commits (${figures.unitsPerDe.toFixed(2)} units), per generic receipt ${figures.commitsPerGeneric.toFixed(3)} commits (${figures.unitsPerGeneric.toFixed(2)} units)`,
        )
        for (const [name, phase] of Object.entries(result.phases)) step(`  ${name}: ${phaseLine(phase)}`)
        return result
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

/**
 * The CPU and commit figures of a run, per receipt. `cpuShare` is the generic throughput the node keeps
 * beside the DE cash boxes when its CPU is the limit, as in production where the remote TSE is elsewhere:
 * the node's CPU of the together run less the generic receipts at their CPU alone is what the DE cash boxes
 * cost it (their own work and whatever they made the generic receipts cost more), taken from the CPU the node
 * had alone. The DE-alone figures are less what the idle node does (job polls, checkpoints): at a few dozen
 * receipts per second that background would otherwise count as theirs.
 */
export function cpuFigures(r: RemoteTseResult) {
  const { idle, alone, deAlone, together } = r.phases
  const per = (value: number, count: number) => (count > 0 ? value / count : Number.NaN)
  const lessIdle = (value: (p: Phase) => number) =>
    value(deAlone) - (value(idle) / idle.seconds) * deAlone.seconds
  const genericAlone = per(alone.cpu.node * 1e6, r.alone.ok)
  const deOnNode = together.cpu.node - (r.together.ok * genericAlone) / 1e6
  const nodeCoresAlone = alone.cpu.node / alone.seconds
  const cpuShare = 1 - deOnNode / together.seconds / nodeCoresAlone
  return {
    genericAlone,
    /** Every CPU second of the node in the together run counted against the generic receipts. */
    genericBeside: per(together.cpu.node * 1e6, r.together.ok),
    nodeCoresAlone,
    nodeCoresTogether: together.cpu.node / together.seconds,
    cpuShare: Number.isFinite(cpuShare) ? cpuShare : null,
    /** A DE receipt's node CPU beside the generic load (its commits shared with theirs) and alone. */
    nodePerDe: per(deOnNode * 1e6, r.de.ok),
    nodePerDeAlone: per(lessIdle((p) => p.cpu.node) * 1e6, r.deAlone.ok),
    remotePerDe: per((deAlone.cpu.remoteTse + deAlone.cpu.proxy) * 1e6, r.deAlone.ok),
    /** Of the together run: what the remote side took, in cores. */
    remoteCores: (together.cpu.remoteTse + together.cpu.proxy) / together.seconds,
    commitsPerDe: per(
      lessIdle((p) => p.nodeCommits.commits),
      r.deAlone.ok,
    ),
    unitsPerDe: per(
      lessIdle((p) => p.nodeCommits.units),
      r.deAlone.ok,
    ),
    commitsPerGeneric: per(alone.nodeCommits.commits, r.alone.ok),
    unitsPerGeneric: per(alone.nodeCommits.units, r.alone.ok),
  }
}

const pct = (r: number) => `${(r * 100).toFixed(1)} %`
const micros = (n: number) => (Number.isFinite(n) ? `${Math.round(n).toLocaleString('en')} µs` : 'n/a')
const cores = (seconds: number, phase: Phase) => (seconds / phase.seconds).toFixed(2)
const phaseLine = (p: Phase) =>
  `cores used: node ${cores(p.cpu.node, p)}, remote TSE ${cores(p.cpu.remoteTse, p)}, proxy ${cores(p.cpu.proxy, p)}, load generator ${cores(p.cpu.loadGenerator, p)}, machine ${cores(p.cpu.machine, p)} (other work ${cores(p.cpu.machine - p.cpu.node - p.cpu.remoteTse - p.cpu.proxy - p.cpu.loadGenerator, p)}); node ${Math.round(p.nodeCommits.commits / p.seconds)} commits/s (${(p.nodeCommits.units / p.nodeCommits.commits).toFixed(1)} units each), remote TSE ${Math.round(p.remoteCommits.commits / p.seconds)} commits/s; load average ${load(p.loadAverage)}`

const load = (values: number[]) => values.map((x) => x.toFixed(2)).join(', ')

/** Rows of the results table (bench/report.ts). */
export function remoteTseRows(r: RemoteTseResult): string[][] {
  const f = cpuFigures(r)
  return [
    [
      `DE /v2/sign on a remote TSE (${r.latencyMs} ms a call), ${r.deCashboxes} cash boxes`,
      `${r.de.okPerSecond.toFixed(1)} start/finish pairs/s, p99 ${r.de.latencyMs.p99.toFixed(0)} ms`,
      `p50 ${r.de.latencyMs.p50.toFixed(0)} ms, non-2xx ${r.de.non2xx}; alone ${r.deAlone.okPerSecond.toFixed(1)} pairs/s, p99 ${r.deAlone.latencyMs.p99.toFixed(0)} ms, ${f.commitsPerDe.toFixed(2)} commits (${f.unitsPerDe.toFixed(2)} units of work) per receipt, generic ${f.commitsPerGeneric.toFixed(3)} (${f.unitsPerGeneric.toFixed(2)}); node CPU per DE receipt ${micros(f.nodePerDe)} beside the generic load, ${micros(f.nodePerDeAlone)} alone; load average ${load(r.loadAverage.together)}`,
      '',
    ],
    [
      `generic /v2/sign, ${r.genericCashboxes} cash boxes, beside ${r.deCashboxes} DE cash boxes on a remote TSE`,
      `${Math.round(r.together.okPerSecond)} req/s (alone ${Math.round(r.alone.okPerSecond)})`,
      `${pct(r.share)} of their throughput alone, non-2xx ${r.together.non2xx}; on this machine the remote TSE and the proxy took ${f.remoteCores.toFixed(2)} cores (${micros(f.remotePerDe)} per DE receipt); load average ${load(r.loadAverage.alone)} (alone)`,
      `≥ ${REMOTE_TSE_TARGETS.share * 100} % ${r.share >= REMOTE_TSE_TARGETS.share ? 'met' : 'MISSED'}`,
    ],
    [
      `generic /v2/sign throughput the node's CPU keeps beside ${r.deCashboxes} DE cash boxes on a remote TSE`,
      f.cpuShare === null ? 'n/a' : pct(f.cpuShare),
      `the node's CPU: ${micros(f.genericAlone)} per generic receipt alone, ${micros(f.genericBeside)} beside with the DE receipts' counted; the DE cash boxes took ${(f.nodeCoresTogether - (r.together.okPerSecond * f.genericAlone) / 1e6).toFixed(2)} of the ${f.nodeCoresAlone.toFixed(2)} cores the node used alone`,
      '',
    ],
  ]
}

export const remoteTseMethod = (r: RemoteTseResult | undefined) =>
  `- *Germany on a remote TSE* (\`npm run bench -- remote-tse\`): a second \`fiscalbox serve\` on its own database serves SIGN DE v2 as the remote TSE, behind bench/tse-latency-proxy.ts (its own process) that adds ${r?.latencyMs ?? LATENCY_MS} ms to every exchange. In production the remote TSE is another company's machine: its database is in memory (a folder in /dev/shm), so that its commits do not share the disk the node's WAL is synced to${r?.remoteStorage === 'disk' ? ' (this machine had no /dev/shm: here it was on the same disk)' : ''}, and its CPU and the proxy's, which here take the same two cores as the node and the load generator, are measured apart. ${r?.deCashboxes ?? 20} DE cash boxes, each with its own TSS and client on the remote (PUT /de/v1/remote-tse) and started, sign on one connection each (a till waits for its receipt): each receipt is a start and a finish on the remote TSE, and on the node one unit of work for its reservation and one for its result. Four runs on the same servers: idle (no load), ${r?.genericCashboxes ?? 30} generic cash boxes under full load (the throughput settings) alone, the DE cash boxes alone, then both; each loaded run has its warm-up and the same duration. Each run reads the CPU time (user + system, /proc) of the node, the remote TSE, the proxy and the bench process (the load generator, both loads), the machine's busy time (/proc/stat, other work included), and the node's and the remote TSE's durable commits (GET /metrics, fiscalbox_db_commit_units: each is one fdatasync of the WAL). The throughput share is the generic 200 answers per second beside the DE cash boxes over those alone. The CPU share is the generic throughput that the node's CPU leaves: the node's CPU of the together run less the generic receipts at their CPU per receipt alone is what the DE cash boxes cost the node (their own work and anything they made the generic receipts cost more), and the share is one minus that over the CPU the node used alone. The target is on the throughput share; the CPU share and the cores the remote TSE and the proxy took say how much of a miss is this machine's rather than the node's (the remote TSE is not on the node's cores in production). The CPU share assumes a generic receipt costs the node the same in both runs, but group commit batches grow with the rate, so it moves when the generic rates of the two runs differ (other work on a shared machine). Per DE receipt alone, CPU and commits are less what the idle node does (job polls, checkpoints).${r ? ` Measured on ${r.measuredAt.slice(0, 10)}, load average ${load(r.phases.alone.loadAverage)} (generic alone), ${load(r.phases.together.loadAverage)} (together).` : ''}`
