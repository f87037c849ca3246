import { execFile } from 'node:child_process'
import { rmSync, statSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from './processes.ts'
import { step } from './terminal.ts'

/** Targets of issue 4 for the export. */
export const TAR_EXPORT_TARGETS = { messagesPerSecond: 50_000, peakRssMiB: 256 }

export interface TarStep {
  messages: number
  seconds: number
  cpuMicros: number
  peakRssMiB: number
}

export interface TarExportResult {
  measuredAt: string
  /** The machine when this part ran: a part run keeps other parts' figures, so it says its own. */
  machine: { loadAverage: number[]; ecdsaSignPerSecond: number }
  messages: number
  archiveMiB: number
  export: TarStep & { messagesPerSecond: number; cpuMicrosPerMessage: number }
  verify: TarStep & {
    messagesPerSecond: number
    cpuMicrosPerMessage: number
    signaturesVerified: number
    problems: number
  }
}

const run = promisify(execFile)

async function child(args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/tar-export-child.ts', ...args], {
    cwd: ROOT,
    maxBuffer: 1 << 20,
  })
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>
}

/**
 * Writes `messages` signed transaction log messages through the TAR writer into a file, then checks the
 * archive with the verifier; each step in a process of its own, so its peak RSS is its own.
 */
export async function tarExport(
  dir: string,
  messages: number,
  ecdsaSignPerSecond: number,
): Promise<TarExportResult> {
  const loadAverage = loadavg()
  const records = join(dir, 'log-messages.bin')
  const out = join(dir, 'export.tar')
  step(`tar-export: signing ${messages.toLocaleString('en')} synthetic log messages (P-256) (${dir})`)
  const seeded = await child(['seed', '--messages', String(messages), '--records', records])
  step(`  signed in ${(seeded.seconds as number).toFixed(0)} s (not part of the measurement)`)
  step('tar-export: streaming them through writeTssExport into a TAR file')
  const exported = (await child(['export', '--records', records, '--out', out])) as unknown as TarStep
  const archiveMiB = statSync(out).size / 2 ** 20
  rmSync(records, { force: true })
  const exportRate = exported.messages / exported.seconds
  step(
    `  ${Math.round(exportRate).toLocaleString('en')} messages/s, peak RSS ${exported.peakRssMiB.toFixed(0)} MiB, ${archiveMiB.toFixed(0)} MiB archive`,
  )
  step('tar-export: verifying the archive (the checks of fiscalbox verify)')
  const verified = (await child(['verify', '--out', out])) as unknown as TarExportResult['verify']
  rmSync(out, { force: true })
  if (verified.problems !== 0 || verified.signaturesVerified !== messages)
    throw new Error(`the benchmark archive does not verify: ${JSON.stringify(verified)}`)
  step(
    `  ${Math.round(verified.messages / verified.seconds).toLocaleString('en')} messages/s, peak RSS ${verified.peakRssMiB.toFixed(0)} MiB, all ${verified.signaturesVerified.toLocaleString('en')} signatures valid`,
  )
  return {
    measuredAt: new Date().toISOString(),
    machine: { loadAverage, ecdsaSignPerSecond },
    messages,
    archiveMiB,
    export: {
      ...exported,
      messagesPerSecond: exportRate,
      cpuMicrosPerMessage: exported.cpuMicros / exported.messages,
    },
    verify: {
      ...verified,
      messagesPerSecond: verified.messages / verified.seconds,
      cpuMicrosPerMessage: verified.cpuMicros / verified.messages,
    },
  }
}
