import { spawn } from 'node:child_process'
import { readFileSync, rmSync, statSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { MasterKey } from '../src/core/secrets.ts'
import { databaseEnv } from './fiscalbox.ts'
import { cpuSeconds, ROOT } from './processes.ts'
import { step } from './terminal.ts'

/** Targets for the export (docs/benchmarks.md, docs/tar-export.md). */
export const TAR_EXPORT_TARGETS = { messagesPerSecond: 50_000, peakRssMiB: 256 }

/** One fiscalbox command, measured from outside as a child process. */
export interface TarStep {
  messages: number
  /** Wall time of the process, start to exit (node and tsx start-up included). */
  seconds: number
  /** CPU (user + system) of the process, µs, from /proc/<pid>/stat. */
  cpuMicros: number
  /** VmHWM of the process (its peak resident set), from /proc/<pid>/status. */
  peakRssMiB: number
}

export interface TarExportResult {
  measuredAt: string
  /** The machine when this part ran: a part run keeps other parts' figures, so it says its own. */
  machine: { loadAverage: number[]; ecdsaSignPerSecond: number }
  /** The database the log is read from ('sqlite'; absent in results of before). */
  engine?: string
  messages: number
  archiveMiB: number
  /** Making the TSS and its log (not measured as export). */
  seed: { seconds: number; cpuMicros: number }
  export: TarStep & { messagesPerSecond: number; cpuMicrosPerMessage: number }
  verify: TarStep & {
    messagesPerSecond: number
    cpuMicrosPerMessage: number
    signaturesVerified: number
    problems: number
    ok: boolean
  }
}

interface Measured {
  stdout: string
  code: number | null
  seconds: number
  cpuMicros: number
  peakRssMiB: number
}

/** How often the child's /proc entries are read: VmHWM is a high-water mark, CPU only grows. */
const SAMPLE_MS = 50

/**
 * Runs `node --import tsx <args>` from the repository root and follows it in /proc while it runs: its
 * peak RSS (VmHWM, kept by the kernel, so sampling misses nothing but the last SAMPLE_MS) and CPU.
 */
function measuredChild(args: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const pid = child.pid ?? 0
    let peakKiB = 0
    let cpu = 0
    const sample = () => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
        if (hwm?.[1]) peakKiB = Math.max(peakKiB, Number(hwm[1]))
      } catch {
        // exited between two samples
      }
      cpu = Math.max(cpu, cpuSeconds(pid) ?? 0)
    }
    const timer = setInterval(sample, SAMPLE_MS)
    const out: Buffer[] = []
    const err: string[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk.toString())
      if (err.length > 50) err.shift()
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      clearInterval(timer)
      const stdout = Buffer.concat(out).toString()
      if (code !== 0 && code !== 1)
        reject(new Error(`${args.join(' ')} exited with ${code}\n${err.join('')}`))
      else resolve({ stdout, code, seconds, cpuMicros: cpu * 1e6, peakRssMiB: peakKiB / 1024 })
    })
    sample()
  })
}

const fiscalbox = (args: string[], env: NodeJS.ProcessEnv) => measuredChild(['src/cli/main.ts', ...args], env)

/**
 * The export path of the product, measured end to end: a TSS made through the TSS service gets a log of
 * `messages` signed TR-03151 messages in de_tss_logs (bench/seed-tss-logs.ts, not measured), then the
 * real `fiscalbox export tar --tss ID --out FILE` streams them from the database into a TAR file and the
 * real `fiscalbox verify FILE` checks the archive; both are child processes followed in /proc.
 */
export async function tarExport(
  dir: string,
  messages: number,
  ecdsaSignPerSecond: number,
): Promise<TarExportResult> {
  const loadAverage = loadavg()
  const env = {
    ...databaseEnv(dir),
    FISCALBOX_MASTER_KEY: MasterKey.generate().text,
    LOG_LEVEL: 'warn',
  }
  const engine = 'sqlite'
  const out = join(dir, 'export.tar')
  step(
    `tar-export: a TSS through the TSS service and ${messages.toLocaleString('en')} signed log messages in de_tss_logs (${engine}, ${dir})`,
  )
  const seeded = await measuredChild(['bench/seed-tss-logs.ts', '--messages', String(messages)], env)
  if (seeded.code !== 0) throw new Error(`seeding failed: ${seeded.stdout}`)
  const seed = JSON.parse(seeded.stdout.trim().split('\n').at(-1) as string) as {
    tssId: string
    messages: number
    seconds: number
    cpuMicros: number
  }
  step(
    `  seeded in ${seeded.seconds.toFixed(0)} s (${Math.round(seed.messages / seed.seconds).toLocaleString('en')} messages/s; not part of the measurement)`,
  )

  step(`tar-export: fiscalbox export tar --tss ${seed.tssId} --out export.tar`)
  const exported = await fiscalbox(['export', 'tar', '--tss', seed.tssId, '--out', out], env)
  const wrote = /wrote (\d+) log messages/.exec(exported.stdout)
  if (exported.code !== 0 || !wrote) throw new Error(`the export failed: ${exported.stdout}`)
  const exportedMessages = Number(wrote[1])
  if (exportedMessages !== seed.messages)
    throw new Error(`the export wrote ${exportedMessages} log messages, not ${seed.messages}`)
  const archiveMiB = statSync(out).size / 2 ** 20
  const exportRate = exportedMessages / exported.seconds
  step(
    `  ${Math.round(exportRate).toLocaleString('en')} messages/s, ${(exported.cpuMicros / exportedMessages).toFixed(1)} µs CPU per message, peak RSS ${exported.peakRssMiB.toFixed(0)} MiB, ${archiveMiB.toFixed(0)} MiB archive`,
  )

  step('tar-export: fiscalbox verify export.tar --json')
  const verified = await fiscalbox(['verify', out, '--json'], env)
  rmSync(out, { force: true })
  const report = JSON.parse(verified.stdout.trim().split('\n').at(-1) as string) as {
    logMessages: number
    signaturesVerified: number
    problemCount: number
    problems: string[]
  }
  const ok = verified.code === 0 && report.problemCount === 0 && report.signaturesVerified === seed.messages
  if (!ok)
    throw new Error(
      `the benchmark archive does not verify: ${report.problemCount} problem(s), first ${report.problems[0]}`,
    )
  step(
    `  OK: ${Math.round(report.logMessages / verified.seconds).toLocaleString('en')} messages/s, peak RSS ${verified.peakRssMiB.toFixed(0)} MiB, all ${report.signaturesVerified.toLocaleString('en')} signatures valid`,
  )
  return {
    measuredAt: new Date().toISOString(),
    machine: { loadAverage, ecdsaSignPerSecond },
    engine,
    messages: exportedMessages,
    archiveMiB,
    seed: { seconds: seeded.seconds, cpuMicros: seeded.cpuMicros },
    export: {
      messages: exportedMessages,
      seconds: exported.seconds,
      cpuMicros: exported.cpuMicros,
      peakRssMiB: exported.peakRssMiB,
      messagesPerSecond: exportRate,
      cpuMicrosPerMessage: exported.cpuMicros / exportedMessages,
    },
    verify: {
      messages: report.logMessages,
      seconds: verified.seconds,
      cpuMicros: verified.cpuMicros,
      peakRssMiB: verified.peakRssMiB,
      messagesPerSecond: report.logMessages / verified.seconds,
      cpuMicrosPerMessage: verified.cpuMicros / report.logMessages,
      signaturesVerified: report.signaturesVerified,
      problems: report.problemCount,
      ok,
    },
  }
}
