import type { Command } from 'commander'
import { fraction, integer } from '../../../cli/option-values.ts'

interface ItSimulatorCliOptions {
  port: number
  host: string
  latencyMs: number
  readLatencyMs: number
  reportMs: number
  errorRate: number
  hangRate: number
  dropAfterPrintRate: number
  offline?: boolean
  seed: number
  serial?: string
  stateFile?: string
  dumpJournal?: boolean
}

/** `fiscalbox it-simulator`: the Epson RT printer simulator (fpmate over HTTP), or its journal dump. */
export function registerItSimulator(program: Command): void {
  program
    .command('it-simulator')
    .description(
      'run the Italian RT device simulator: an Epson RT printer speaking fpmate XML on /cgi-bin/fpmate.cgi, with fault injection; see docs/country-it.md',
    )
    .option('--port <n>', 'port to listen on (0 picks a free one)', integer(0, 65535), 8090)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--latency-ms <ms>', 'time each document takes; one document at a time', integer(0, 600_000), 266)
    .option('--read-latency-ms <ms>', 'time a status query or directIO read takes', integer(0, 600_000), 62)
    .option('--report-ms <ms>', 'time a Z or X report takes', integer(0, 600_000), 3000)
    .option(
      '--error-rate <fraction>',
      'share of requests refused with PRINTER ERROR 17, nothing printed',
      fraction,
      0,
    )
    .option(
      '--hang-rate <fraction>',
      'share of requests left unanswered until their timeout (LAN_TIME_OUT)',
      fraction,
      0,
    )
    .option(
      '--drop-after-print-rate <fraction>',
      'share of requests carried out whose connection is then cut without an answer',
      fraction,
      0,
    )
    .option(
      '--offline',
      'cut every fpmate connection unprocessed (PUT /_sim/faults {"offline": false} ends it)',
    )
    .option('--seed <n>', 'seed of the fault decisions', integer(0, 2 ** 31), 1)
    .option('--serial <matricola>', 'device serial of a new device, e.g. 99IEZ000002 (default 99IEZ000001)')
    .option('--state-file <file>', 'keep counters and electronic journal in this file across restarts')
    .option('--dump-journal', 'print the electronic journal of --state-file as JSON lines and exit')
    .action(async (options: ItSimulatorCliOptions) => {
      if (options.serial !== undefined && !/^\w{11}$/.test(options.serial))
        throw new Error(
          `--serial must be the 11-character device serial, e.g. 99IEZ000002; got ${options.serial}`,
        )
      if (options.dumpJournal) return dumpJournal(options)
      const { startItSimulator } = await import('../simulator/app.ts')
      const simulator = await startItSimulator({
        port: options.port,
        host: options.host,
        latencyMs: options.latencyMs,
        readLatencyMs: options.readLatencyMs,
        reportMs: options.reportMs,
        faults: {
          errorRate: options.errorRate,
          hangRate: options.hangRate,
          dropAfterPrintRate: options.dropAfterPrintRate,
          offline: Boolean(options.offline),
          seed: options.seed,
        },
        ...(options.serial ? { serialNumber: options.serial } : {}),
        ...(options.stateFile ? { stateFile: options.stateFile } : {}),
      })
      const { state } = simulator.device
      process.stdout.write(
        `it-simulator listening on ${simulator.url}\n` +
          `  device ${state.serialNumber}, Z ${state.zNumber}, document ${state.documentNumber}` +
          `${options.stateFile ? `, state in ${options.stateFile}` : ' (state in memory only)'}\n` +
          `  fpmate: POST ${simulator.url}/cgi-bin/fpmate.cgi\n` +
          `  state, journal and faults: ${simulator.url}/_sim/state, ${simulator.url}/_sim/journal, PUT /_sim/faults\n`,
      )
      const stop = () => {
        void simulator.close().then(() => process.exit(0))
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
}

async function dumpJournal(options: ItSimulatorCliOptions): Promise<void> {
  if (!options.stateFile)
    throw new Error(
      '--dump-journal reads the journal of --state-file <file>: name the file the simulator ran with',
    )
  const { existsSync } = await import('node:fs')
  if (!existsSync(options.stateFile))
    throw new Error(`--state-file ${options.stateFile} does not exist: name the file the simulator ran with`)
  const { loadDeviceState } = await import('../simulator/state.ts')
  const state = loadDeviceState(options.stateFile, options.serial)
  for (const entry of state.journal)
    process.stdout.write(`${JSON.stringify({ serialNumber: state.serialNumber, ...entry })}\n`)
  process.stderr.write(`${state.journal.length} journal entries of device ${state.serialNumber}\n`)
}
