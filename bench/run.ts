import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import {
  type BenchCashbox,
  createCashboxes,
  databaseEnv,
  freshDataDir,
  journaledReceipts,
  type ServerOptions,
  signRequests,
  startCashboxes,
  startFiscalbox,
} from './fiscalbox.ts'
import { type AtResult, atSignRequests, prepareAtCashboxes, provisionAndStart } from './at.ts'
import {
  configureAndStart,
  type EsPosResult,
  esSignRequests,
  prepareEsCashboxes,
  submissionProgress,
} from './es-pos.ts'
import { type EsResult, esBench } from './es.ts'
import { type FrPtResult, frPtBench } from './fr-pt.ts'
import { type ExternalUnitResult, externalUnitBench } from './external-unit.ts'
import { type ItResult, itBench } from './it.ts'
import { type RemoteTseResult, remoteTseBench } from './remote-tse.ts'
import { type LoadResult, runLoad } from './load.ts'
import { type Machine, probeMachine, type Versions, versions } from './machine.ts'
import { cpuSeconds, ROOT, runCli, type Server, startServer, withServer } from './processes.ts'
import { type RenderResult, renderBench } from './render.ts'
import { renderMarkdown, renderSvg } from './report.ts'
import { seedHistory } from './seed-history.ts'
import { type TarExportResult, tarExport } from './tar-export.ts'
import { type DeResult, deBench } from './de.ts'
import { type DeSignResult, deSignBench } from './de-sign.ts'
import { type SoakResult, soak } from './soak.ts'
import { step } from './terminal.ts'
import {
  createRequests,
  drainBacklog,
  setupAccount,
  TRANSACTIONS_ENV,
  type TransactionsResult,
} from './transactions.ts'
import { countTransactions, drainSpanishBacklog, setupSpanishAccount } from './transactions-es.ts'

const PARTS = [
  'throughput',
  'latency',
  'history',
  'tar-export',
  'render',
  'at',
  'de',
  'de-sign',
  'es',
  'es-pos',
  'external-unit',
  'it',
  'remote-tse',
  'fr-pt',
  'transactions',
  'soak',
] as const
type Part = (typeof PARTS)[number]
/** Run when no part is named; the soak takes minutes and runs only when asked for. */
const DEFAULT_PARTS: Part[] = PARTS.filter((part) => part !== 'soak')

const USAGE = `usage: npm run bench -- [${PARTS.join('|')} ...] [options]

Runs the parts named (all but soak when none is) and prints a markdown table. A full run writes
bench/results/latest.json, docs/benchmarks.md and docs/benchmarks.svg; a part run updates its part there.
\`es\` measures the Spanish records, hashes, XML and signatures in-process, then VERI*FACTU through
POST /v1/transactions (inline, and the drain of a backlog after an authority outage).

  --quick              smoke run: few cash boxes, short runs, 20,000 receipts of history; writes only
                       bench/results/quick.tmp, never the docs
  --duration <s>       seconds each measured load runs (default 30, quick 4)
  --profile            write a V8 CPU profile of the fiscalbox server (node --cpu-prof) to bench/results/profiles
  --log-level <level>  LOG_LEVEL of the fiscalbox server (default warn: the request log is off, as in hello-world)
  --server-root <dir>  start the fiscalbox of another checkout (with node_modules) instead of this one, for
                       before/after figures; the docs are left alone
  --results <file>     write the results JSON there (default bench/results/latest.json)
  --keep               keep the temporary data folders
  --minutes <n>        soak: minutes at the steady rate (default 10)
  --soak-rate <n>      soak: requests per second (default 100)
  --render             measure nothing: write docs/benchmarks.md and .svg again from bench/results/latest.json
  -h, --help           this text`

export interface Settings {
  quick: boolean
  durationS: number
  warmupS: number
  cashboxes: number
  connections: number
  rate: number
  latencyConnections: number
  historySmall: number
  historyLarge: number
  tarExportMessages: number
  logLevel: string
}

export interface ThroughputResult {
  measuredAt: string
  hello: LoadResult
  sign: LoadResult
  /** sign 200 answers per second / hello-world 200 answers per second */
  ratio: number
  cashboxes: number
  journaledReceipts: number
}

export interface LatencyResult {
  measuredAt: string
  sign: LoadResult
}

export interface HistoryRun {
  receipts: number
  seedSeconds: number
  databaseMiB: number
  sign: LoadResult
}

export interface HistoryResult {
  measuredAt: string
  small: HistoryRun
  large: HistoryRun
  /** p50 with the large history / p50 with the small one */
  p50Ratio: number
  /** What `fiscalbox verify` said of the small history's whole journal (seeded and live receipts). */
  verified?: string
}

export interface Results {
  generatedAt: string
  /** The commit of the measured server when it is not this checkout's (--server-root). */
  serverCommit?: string
  machine: Machine
  versions: Versions
  settings: Settings
  throughput?: ThroughputResult
  latency?: LatencyResult
  history?: HistoryResult
  tarExport?: TarExportResult
  render?: RenderResult
  at?: AtResult
  esPos?: EsPosResult
  de?: DeResult
  soak?: SoakResult
  deSign?: DeSignResult
  frPt?: FrPtResult
  transactions?: TransactionsResult
  es?: EsResult
  externalUnit?: ExternalUnitResult
  it?: ItResult
  remoteTse?: RemoteTseResult
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'warn' },
    'server-root': { type: 'string' },
    results: { type: 'string' },
    keep: { type: 'boolean', default: false },
    render: { type: 'boolean', default: false },
    minutes: { type: 'string' },
    'soak-rate': { type: 'string', default: '100' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
const unknown = positionals.filter((p) => !(PARTS as readonly string[]).includes(p))
if (unknown.length > 0) {
  process.stderr.write(`unknown part ${unknown.join(', ')}\n${USAGE}\n`)
  process.exit(2)
}
const parts: Part[] = positionals.length > 0 ? (positionals as Part[]) : [...DEFAULT_PARTS]
const quick = values.quick
const settings: Settings = {
  quick,
  durationS: values.duration ? Number(values.duration) : quick ? 4 : 30,
  warmupS: quick ? 2 : 5,
  cashboxes: quick ? 4 : 50,
  connections: 64,
  rate: 200,
  latencyConnections: 1,
  historySmall: 1_000,
  historyLarge: quick ? 20_000 : 1_000_000,
  tarExportMessages: quick ? 20_000 : 1_000_000,
  logLevel: values['log-level'],
}
const serverOptions: ServerOptions = {
  logLevel: settings.logLevel,
  ...(values.profile ? { profileDir: join(ROOT, 'bench/results/profiles') } : {}),
  ...(values['server-root'] ? { serverRoot: values['server-root'] } : {}),
}
const writeDocs = !quick && !values['server-root']
const folders: string[] = []
const fresh = (label: string, parent?: string) => {
  const dir = freshDataDir(label, parent)
  folders.push(dir)
  return dir
}

/** Throws out the first seconds (JIT, caches, connection set-up), then measures. */
async function warmThenMeasure(
  options: Omit<Parameters<typeof runLoad>[0], 'durationS'>,
): Promise<LoadResult> {
  await runLoad({ ...options, label: `${options.label} (warm-up)`, durationS: settings.warmupS })
  return runLoad({ ...options, durationS: settings.durationS })
}

async function throughput(): Promise<ThroughputResult> {
  step(`throughput: fastify hello-world, ${settings.connections} connections, ${settings.durationS} s`)
  const hello = await withServer(
    startServer('hello-world', ['--import', 'tsx', 'bench/hello-server.ts'], { PORT: '0' }),
    (server) =>
      warmThenMeasure({
        label: 'hello-world',
        url: server.url,
        connections: settings.connections,
        serverPid: server.pid,
      }),
  )
  step(
    `  hello-world: ${fmt(hello.okPerSecond)} req/s, server CPU ${fmt(hello.serverCpuMicros ?? Number.NaN)} µs per request (load generator ${fmt(hello.clientCpuMicros ?? Number.NaN)} µs)`,
  )
  const dir = fresh('throughput')
  step(
    `throughput: /v2/sign on ${settings.cashboxes} cash boxes, ${settings.connections} connections (${dir})`,
  )
  const cashboxes = await createCashboxes(dir, settings.cashboxes)
  const sign = await withServer(startFiscalbox(dir, serverOptions), async (server) => {
    await startCashboxes(server, cashboxes)
    return warmThenMeasure({
      label: '/v2/sign',
      url: server.url,
      connections: settings.connections,
      serverPid: server.pid,
      requests: signRequests(cashboxes, 'throughput'),
    })
  })
  const journaled = journaledReceipts(dir)
  step(
    `  /v2/sign: ${fmt(sign.okPerSecond)} req/s (${pct(sign.okPerSecond / hello.okPerSecond)} of hello-world), server CPU ${fmt(sign.serverCpuMicros ?? Number.NaN)} µs per request (load generator ${fmt(sign.clientCpuMicros ?? Number.NaN)} µs), non-2xx ${sign.non2xx}, errors ${sign.errors}`,
  )
  return {
    measuredAt: new Date().toISOString(),
    hello,
    sign,
    ratio: sign.okPerSecond / hello.okPerSecond,
    cashboxes: cashboxes.length,
    journaledReceipts: journaled,
  }
}

async function fixedRate(label: string, server: Server, cashbox: BenchCashbox): Promise<LoadResult> {
  return warmThenMeasure({
    label,
    url: server.url,
    connections: settings.latencyConnections,
    overallRate: settings.rate,
    serverPid: server.pid,
    requests: signRequests([cashbox], label),
  })
}

async function latency(): Promise<LatencyResult> {
  const dir = fresh('latency')
  step(`latency: /v2/sign on one cash box at ${settings.rate} req/s for ${settings.durationS} s (${dir})`)
  const [cashbox] = (await createCashboxes(dir, 1)) as [BenchCashbox]
  const sign = await withServer(startFiscalbox(dir, serverOptions), async (server) => {
    await startCashboxes(server, [cashbox])
    return fixedRate('latency', server, cashbox)
  })
  step(`  p50 ${ms(sign.latencyMs.p50)}, p99 ${ms(sign.latencyMs.p99)}, non-2xx ${sign.non2xx}`)
  return { measuredAt: new Date().toISOString(), sign }
}

async function historyRun(receipts: number, verify: boolean): Promise<HistoryRun & { verified?: string }> {
  const dir = fresh(`history-${receipts}`)
  step(`history: seeding ${fmt(receipts)} receipts (${dir})`)
  const seeded = await seedHistory({ dataDir: dir, receipts })
  step(`  seeded in ${seeded.seconds.toFixed(0)} s, database ${seeded.databaseMiB.toFixed(0)} MiB`)
  const sign = await withServer(startFiscalbox(dir, serverOptions), (server) =>
    fixedRate(`history ${fmt(receipts)}`, server, seeded.cashbox),
  )
  step(`  p50 ${ms(sign.latencyMs.p50)}, p99 ${ms(sign.latencyMs.p99)} with ${fmt(receipts)} receipts`)
  const run = { receipts, seedSeconds: seeded.seconds, databaseMiB: seeded.databaseMiB, sign }
  if (!verify) return run
  const file = join(dir, 'journal.jsonl')
  await runCli(['export', 'journal', '--cashbox', seeded.cashbox.cashboxId, '--out', file], databaseEnv(dir))
  const verified = (await runCli(['verify', file], databaseEnv(dir))).trim()
  step(`  fiscalbox verify: ${verified}`)
  if (!verified.startsWith('OK')) throw new Error(`the journal does not verify: ${verified}`)
  return { ...run, verified: verified.replace(/, head [0-9a-f]+$/, '') }
}

async function history(): Promise<HistoryResult> {
  const { verified, ...small } = await historyRun(settings.historySmall, true)
  const large = await historyRun(settings.historyLarge, false)
  return {
    measuredAt: new Date().toISOString(),
    small,
    large,
    p50Ratio: large.sign.latencyMs.p50 / small.sign.latencyMs.p50,
    ...(verified ? { verified } : {}),
  }
}

/**
 * Spain: VERI*FACTU receipts per second on /v2/sign, the outbox submitting them meanwhile to an authority
 * simulator in a process of its own (the AEAT is remote in production, so its parsing and checks are not
 * the server's CPU), and the generic /v2/sign load of the same shape right before it for the ratio.
 */
async function esPosThroughput(): Promise<EsPosResult> {
  const genericDir = fresh('es-pos-generic')
  const dir = fresh('es-pos')
  step(
    `es-pos: generic, then VERI*FACTU /v2/sign on ${settings.cashboxes} cash boxes each, ${settings.connections} connections (${genericDir}, ${dir})`,
  )
  // Both sets made first, so that the two measurements run back to back on the shared machine.
  const genericCashboxes = await createCashboxes(genericDir, settings.cashboxes)
  const cashboxes = await prepareEsCashboxes(dir, settings.cashboxes)
  const genericLoad = loadavg()
  const generic = await withServer(startFiscalbox(genericDir, serverOptions), async (server) => {
    await startCashboxes(server, genericCashboxes)
    return warmThenMeasure({
      label: 'es-pos generic /v2/sign',
      url: server.url,
      connections: settings.connections,
      serverPid: server.pid,
      requests: signRequests(genericCashboxes, 'es-pos-generic'),
    })
  })
  step(
    `  generic ${genericCashboxes.length} cash boxes: ${fmt(generic.okPerSecond)} req/s, CPU ${fmt(generic.serverCpuMicros ?? Number.NaN)} µs/receipt, non-2xx ${generic.non2xx} (load average ${genericLoad.map((x) => x.toFixed(2)).join(', ')})`,
  )
  // --wait-seconds 0 as the in-process simulator answered: the outbox submits every tick, the most
  // submission work the server can be asked to do, rather than once per the AEAT's 60 s.
  const simulator = await startServer(
    'es-simulator',
    ['--import', 'tsx', 'src/cli/main.ts', 'es-simulator', '--port', '0', '--wait-seconds', '0'],
    {},
  )
  const esLoad = loadavg()
  const { load, submitted, simulatorSeconds } = await withServer(Promise.resolve(simulator), () =>
    withServer(
      startFiscalbox(dir, {
        ...serverOptions,
        env: { ...serverOptions.env, FISCALBOX_ES_SIMULATOR_URL: simulator.url },
      }),
      async (server) => {
        await configureAndStart(server, cashboxes)
        const options = {
          label: 'es-pos',
          url: server.url,
          connections: settings.connections,
          serverPid: server.pid,
          requests: esSignRequests(cashboxes, 'es-pos'),
        }
        await runLoad({ ...options, label: 'es-pos (warm-up)', durationS: settings.warmupS })
        const before = cpuSeconds(simulator.pid)
        const load = await runLoad({ ...options, durationS: settings.durationS })
        const after = cpuSeconds(simulator.pid)
        return {
          load,
          submitted: await submissionProgress(server, cashboxes),
          simulatorSeconds: before !== undefined && after !== undefined ? after - before : undefined,
        }
      },
    ),
  )
  const simulatorCpuMicros =
    simulatorSeconds !== undefined && load.ok > 0 ? (simulatorSeconds / load.ok) * 1e6 : null
  const ratio =
    load.serverCpuMicros !== null && generic.serverCpuMicros
      ? load.serverCpuMicros / generic.serverCpuMicros
      : null
  step(
    `  ES ${cashboxes.length} cash boxes: ${fmt(load.okPerSecond)} req/s, CPU ${fmt(load.serverCpuMicros ?? Number.NaN)} µs/receipt (simulator ${fmt(simulatorCpuMicros ?? Number.NaN)} µs), ${ratio === null ? 'n/a' : ratio.toFixed(2)} x generic, non-2xx ${load.non2xx}; ${fmt(submitted.accepted)} of ${fmt(submitted.records)} records accepted by then (load average ${esLoad.map((x) => x.toFixed(2)).join(', ')})`,
  )
  return {
    measuredAt: new Date().toISOString(),
    load,
    generic,
    cashboxes: cashboxes.length,
    submitted,
    simulatorCpuMicros,
    ratio,
    loadAverage: { generic: genericLoad, es: esLoad },
  }
}

/** Austria: RKSV receipts per second on one cash box and across many, against hello-world in the same run. */
async function atThroughput(): Promise<AtResult> {
  step(`at: fastify hello-world, ${settings.connections} connections, ${settings.durationS} s`)
  const hello = await withServer(
    startServer('hello-world', ['--import', 'tsx', 'bench/hello-server.ts'], { PORT: '0' }),
    (server) =>
      warmThenMeasure({
        label: 'hello-world',
        url: server.url,
        connections: settings.connections,
        serverPid: server.pid,
      }),
  )
  const dir = fresh('at')
  step(
    `at: RKSV /v2/sign on 1 and ${settings.cashboxes} AT cash boxes, ${settings.connections} connections (${dir})`,
  )
  const cashboxes = await prepareAtCashboxes(dir, settings.cashboxes)
  const [one, many] = await withServer(startFiscalbox(dir, serverOptions), async (server) => {
    await provisionAndStart(server, cashboxes)
    const load = (label: string, boxes: BenchCashbox[]) =>
      warmThenMeasure({
        label,
        url: server.url,
        connections: settings.connections,
        serverPid: server.pid,
        requests: atSignRequests(boxes, label),
      })
    return [await load('at-one', cashboxes.slice(0, 1)), await load('at-many', cashboxes)]
  })
  step(
    `  AT one cash box: ${fmt(one.okPerSecond)} req/s (${pct(one.okPerSecond / hello.okPerSecond)} of hello-world), CPU ${fmt(one.serverCpuMicros ?? Number.NaN)} µs/receipt, non-2xx ${one.non2xx}`,
  )
  step(
    `  AT ${cashboxes.length} cash boxes: ${fmt(many.okPerSecond)} req/s (${pct(many.okPerSecond / hello.okPerSecond)}), CPU ${fmt(many.serverCpuMicros ?? Number.NaN)} µs/receipt, non-2xx ${many.non2xx}`,
  )
  return {
    measuredAt: new Date().toISOString(),
    hello,
    one,
    many,
    cashboxes: cashboxes.length,
    oneRatio: one.okPerSecond / hello.okPerSecond,
    manyRatio: many.okPerSecond / hello.okPerSecond,
  }
}

async function soakPart(): Promise<SoakResult> {
  const minutes = values.minutes ? Number(values.minutes) : quick ? 0.5 : 10
  const rate = Number(values['soak-rate'])
  const dir = fresh('soak')
  step(`soak: /v2/sign at ${rate} req/s for ${minutes} min on 10 cash boxes (${dir})`)
  const result = await soak({
    dataDir: dir,
    minutes,
    rate,
    connections: 8,
    cashboxes: 10,
    windowS: minutes >= 5 ? 30 : 10,
  })
  step(
    `  ${fmt(result.ok)} receipts, other answers ${result.other}, errors ${result.errors}; live heap ${result.liveHeapMiB.first} -> ${result.liveHeapMiB.last} MiB (${result.memoryFlat ? 'flat' : 'GROWS'}), p99 ${ms(result.p99Ms.first)} -> ${ms(result.p99Ms.last)} (${result.p99Flat ? 'flat' : 'GROWS'})`,
  )
  return result
}

async function transactions(): Promise<TransactionsResult> {
  const dir = fresh('transactions')
  const locations = settings.quick ? 4 : 50
  const drainJobs = settings.quick ? 1_000 : 10_000
  step(
    `transactions: POST /v1/transactions on ${locations} locations, ${settings.connections} connections (${dir})`,
  )
  const options = { ...serverOptions, env: TRANSACTIONS_ENV }
  return withServer(startFiscalbox(dir, options), async (server) => {
    const account = await setupAccount(server, locations)
    const create = await warmThenMeasure({
      label: 'POST /v1/transactions',
      url: server.url,
      connections: settings.connections,
      serverPid: server.pid,
      okStatus: 201,
      requests: createRequests(account.key, account.locations),
    })
    step(
      `  accepted ${fmt(create.okPerSecond)} transactions/s (201, fiscalized inline), server CPU ${fmt(create.serverCpuMicros ?? Number.NaN)} µs per transaction, p50 ${ms(create.latencyMs.p50)}, p99 ${ms(create.latencyMs.p99)}, non-2xx ${create.non2xx}`,
    )
    const drain = await drainBacklog(server, drainJobs)
    step(
      `  drained ${fmt(drain.jobs)} jobs in ${drain.seconds.toFixed(1)} s (${fmt(drain.jobsPerSecond)} jobs/s), server CPU ${fmt(drain.serverCpuMicrosPerJob ?? Number.NaN)} µs per job`,
    )
    return { measuredAt: new Date().toISOString(), locations, create, drain }
  })
}

/** Spain: the in-process work, then VERI*FACTU through the transactions API against the server's simulator. */
async function spain(): Promise<EsResult> {
  const inProcess = await esBench(quick)
  const dir = fresh('es')
  const locations = settings.quick ? 4 : 50
  const drainJobs = settings.quick ? 1_000 : 10_000
  const options = { ...serverOptions, env: TRANSACTIONS_ENV }
  const transactions = await withServer(startFiscalbox(dir, options), (server) =>
    spanishTransactions(server, locations, drainJobs),
  )
  return { ...inProcess, transactions }
}

/** VERI*FACTU locations against the simulator the server started in-process (test key). */
async function spanishTransactions(
  server: Server,
  locations: number,
  drainJobs: number,
): Promise<NonNullable<EsResult['transactions']>> {
  step(`es: POST /v1/transactions on ${locations} VERI*FACTU locations, inline to the simulator`)
  const account = await setupSpanishAccount(server, locations)
  const create = await warmThenMeasure({
    label: 'POST /v1/transactions (ES)',
    url: server.url,
    connections: settings.connections,
    serverPid: server.pid,
    okStatus: 201,
    requests: createRequests(account.key, account.locations),
  })
  const stored = await countTransactions(server, account.key)
  const succeeded = await countTransactions(server, account.key, 'success')
  step(
    `  accepted ${fmt(create.okPerSecond)} transactions/s (201, VERI*FACTU inline), server CPU ${fmt(create.serverCpuMicros ?? Number.NaN)} µs per transaction (simulator included), p50 ${ms(create.latencyMs.p50)}, p99 ${ms(create.latencyMs.p99)}, non-2xx ${create.non2xx}; ${fmt(succeeded)} of ${fmt(stored)} success`,
  )
  const drain = await drainSpanishBacklog(server, drainJobs)
  step(
    `  drained ${fmt(drain.transactions)} VERI*FACTU transactions in ${drain.seconds.toFixed(1)} s (${fmt(drain.transactionsPerSecond)}/s), server CPU ${fmt(drain.serverCpuMicrosPerTransaction ?? Number.NaN)} µs per transaction, ${drain.submissions} submissions, ${drain.duplicates} duplicates`,
  )
  const submissionClaimBatch = Number(process.env.JOBS_SUBMISSION_CLAIM_BATCH ?? 1000)
  return { locations, create, submissionClaimBatch, stored, succeeded, drain }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en')
const pct = (r: number) => `${(r * 100).toFixed(1)} %`
const ms = (n: number) => `${n.toFixed(2)} ms`

function writeDocuments(results: Results): string {
  const beforeFile = join(ROOT, 'bench/results/before.json')
  const before = existsSync(beforeFile)
    ? (JSON.parse(readFileSync(beforeFile, 'utf8')) as Results)
    : undefined
  const markdown = renderMarkdown(results, before)
  if (writeDocs) {
    writeFileSync(join(ROOT, 'docs/benchmarks.md'), markdown.document)
    writeFileSync(join(ROOT, 'docs/benchmarks.svg'), renderSvg(results))
  }
  return markdown.table
}

async function main(): Promise<void> {
  if (values.render) {
    const results = JSON.parse(readFileSync(join(ROOT, 'bench/results/latest.json'), 'utf8')) as Results
    process.stdout.write(`${writeDocuments(results)}\n`)
    step('wrote docs/benchmarks.md and docs/benchmarks.svg from bench/results/latest.json')
    return
  }
  step(`fiscalbox benchmark: ${parts.join(', ')}${quick ? ' (quick)' : ''}`)
  const machine = probeMachine()
  step(
    `machine: ${machine.cores} x ${machine.cpu}, ${fmt(machine.fsyncPerSecond)} fsync/s, ${fmt(machine.ecdsaSignPerSecond)} ECDSA P-256 signatures/s`,
  )
  const resultsFile = values.results
    ? resolve(values.results)
    : join(
        ROOT,
        'bench/results',
        quick ? 'quick.tmp' : values['server-root'] ? 'other-root.tmp' : 'latest.json',
      )
  // A part run keeps the other parts of the previous results (each part has its own measuredAt).
  const previous: Partial<Results> =
    !quick && existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Results) : {}
  // A soak, es, es-pos, it or fr-pt alone keeps the machine and settings the other parts were measured with;
  // they carry their own (the soak its settings, the others their load averages and measured durations).
  const keepsMachine =
    parts.every((p) => ['soak', 'render', 'es', 'es-pos', 'it', 'remote-tse', 'fr-pt'].includes(p)) &&
    previous.machine !== undefined
  const results: Results = {
    ...previous,
    generatedAt: keepsMachine ? (previous.generatedAt as string) : new Date().toISOString(),
    machine: keepsMachine ? (previous.machine as Machine) : machine,
    versions: keepsMachine ? (previous.versions as Versions) : versions(),
    settings: keepsMachine ? (previous.settings as Settings) : settings,
    ...(values['server-root'] ? { serverCommit: commitOf(values['server-root']) } : {}),
  }
  try {
    if (parts.includes('throughput')) results.throughput = await throughput()
    if (parts.includes('latency')) results.latency = await latency()
    if (parts.includes('history')) results.history = await history()
    if (parts.includes('tar-export'))
      results.tarExport = await tarExport(
        fresh('tar-export'),
        settings.tarExportMessages,
        machine.ecdsaSignPerSecond,
      )
    if (parts.includes('render')) {
      results.render = {
        ...(await renderBench(Math.min(settings.durationS, 10))),
        loadAverage: machine.loadAverage,
      }
    }
    if (parts.includes('at')) results.at = await atThroughput()
    if (parts.includes('es-pos')) results.esPos = await esPosThroughput()
    if (parts.includes('de')) results.de = await deBench(fresh, settings, serverOptions)
    if (parts.includes('soak')) results.soak = await soakPart()
    if (parts.includes('de-sign'))
      results.deSign = await deSignBench(fresh('de-sign'), settings, serverOptions)
    if (parts.includes('external-unit'))
      results.externalUnit = await externalUnitBench(fresh('external-unit'), settings, serverOptions)
    if (parts.includes('it')) results.it = await itBench(fresh('it'), settings, serverOptions)
    if (parts.includes('remote-tse')) results.remoteTse = await remoteTseBench(fresh, settings, serverOptions)
    if (parts.includes('fr-pt')) results.frPt = await frPtBench(fresh, settings, serverOptions)
    if (parts.includes('transactions')) results.transactions = await transactions()
    if (parts.includes('es')) results.es = await spain()
  } finally {
    if (!values.keep) for (const dir of folders) rmSync(dir, { recursive: true, force: true })
  }
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true })
  writeFileSync(resultsFile, resultsJson(results))
  process.stdout.write(`${writeDocuments(results)}\n`)
  if (writeDocs) {
    step(`wrote ${resultsFile}, docs/benchmarks.md and docs/benchmarks.svg`)
  } else {
    step(`wrote ${resultsFile} (docs left as they are)`)
  }
}

/** JSON as the formatter (biome) writes it: arrays of numbers on one line. */
const resultsJson = (results: Results) =>
  `${JSON.stringify(results, null, 2).replace(/\[\n\s+([-\d.e+,\s]+?)\n\s+\]/g, (_, items: string) => `[${items.split(/,\s+/).join(', ')}]`)}\n`

/** The commit a --server-root copy was made from, if it says so in a COMMIT file. */
function commitOf(root: string): string | undefined {
  const file = join(root, 'COMMIT')
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined
}

await main()
