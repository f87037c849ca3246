import { readFileSync } from 'node:fs'
import { type Command, InvalidArgumentError } from 'commander'
import type { EsConfigRequest } from '../cashbox/configuration.ts'
import { esServicesOf } from '../cashbox/index.ts'
import { cashboxJobScope } from '../cashbox/ports.ts'
import { printFields, withCountryCashbox } from '../../../cli/country-cashbox.ts'
import { progress } from '../../../cli/progress.ts'
import { fraction, integer } from '../../../cli/option-values.ts'
import type { VerifactuReport } from '../../../verify/verifactu-verifier.ts'

/**
 * Every Spanish command: `es configure | show | lroe-run` (the ES cash boxes of /v2/sign), `verify-es`
 * (VERI*FACTU, TicketBAI files) and `es-simulator` (alias `authority-sim`, the authority simulator).
 */
export function registerSpainCommands(program: Command): void {
  registerEsCommands(program)
  registerVerify(program)
  program
    .command('es-simulator')
    // the older name of the authority simulator, kept so that scripts using it keep working
    .alias('authority-sim')
    .description(
      'run the Spanish authority simulator: AEAT VERI*FACTU SOAP service and TicketBAI (Araba, Bizkaia, Gipuzkoa) with fault injection; see docs/country-es.md',
    )
    .option('--port <n>', 'port to listen on (0 picks a free one)', integer(0, 65535), 8089)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--wait-seconds <n>', 'TiempoEsperaEnvio answered by the AEAT service', integer(0, 9999), 60)
    .option('--enforce-wait', 'refuse a submission under 1000 records sent before the waiting time is over')
    .option('--error-rate <fraction>', 'share of requests answered 503 without processing', fraction, 0)
    .option('--timeout-rate <fraction>', 'share of requests processed whose answer never comes', fraction, 0)
    .option('--drop-rate <fraction>', 'share of requests held open without processing', fraction, 0)
    .option('--slow-ms <ms>', 'delay before every answer', integer(0, 600_000), 0)
    .option(
      '--outage <from-to>',
      'seconds after start during which every request gets 503, e.g. 30-90 (repeatable)',
      outage,
      [],
    )
    .option('--seed <n>', 'seed of the fault decisions', integer(0, 2 ** 31), 1)
    .option('--tls-key <file>', 'serve HTTPS with this private key (PEM)')
    .option('--tls-cert <file>', 'certificate of --tls-key (PEM)')
    .option(
      '--client-ca <file>',
      'require client certificates issued by this CA (PEM); also the trusted CA of TicketBAI signers',
    )
    .action(async (options: EsSimulatorOptions) => {
      const { startSimulator } = await import('../simulator/app.ts')
      if (Boolean(options.tlsKey) !== Boolean(options.tlsCert))
        throw new Error('--tls-key and --tls-cert go together')
      const started = Date.now()
      const ca = options.clientCa ? readFileSync(options.clientCa, 'utf8') : undefined
      const simulator = await startSimulator({
        port: options.port,
        host: options.host,
        aeat: { waitSeconds: options.waitSeconds, enforceWait: Boolean(options.enforceWait) },
        ...(ca ? { ticketbai: { trustedCa: ca } } : {}),
        faults: {
          errorRate: options.errorRate,
          timeoutRate: options.timeoutRate,
          dropRate: options.dropRate,
          slowMs: options.slowMs,
          seed: options.seed,
          outages: options.outage.map(([from, to]) => ({
            from: started + from * 1000,
            to: started + to * 1000,
          })),
        },
        ...(options.tlsKey && options.tlsCert
          ? {
              https: {
                key: readFileSync(options.tlsKey),
                cert: readFileSync(options.tlsCert),
                ...(ca ? { ca, requestCert: true } : {}),
              },
            }
          : {}),
      })
      process.stdout.write(
        `es-simulator listening on ${simulator.url}\n` +
          `  VERI*FACTU SOAP: ${simulator.url}/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP\n` +
          `  TicketBAI: ${simulator.url}/tbai/alta/{araba|gipuzkoa}, ${simulator.url}/tbai/lroe/bizkaia, ${simulator.url}/tbai/consulta/{territory}?id=\n` +
          `  state and faults: ${simulator.url}/_sim/state, PUT /_sim/faults, POST|DELETE /_sim/outage\n`,
      )
      const stop = () => {
        void simulator.close().then(() => process.exit(0))
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
}

interface EsSimulatorOptions {
  port: number
  host: string
  waitSeconds: number
  enforceWait?: boolean
  errorRate: number
  timeoutRate: number
  dropRate: number
  slowMs: number
  outage: Array<[number, number]>
  seed: number
  tlsKey?: string
  tlsCert?: string
  clientCa?: string
}

function outage(value: string, previous: Array<[number, number]>): Array<[number, number]> {
  const match = /^(\d+)-(\d+)$/.exec(value)
  if (!match || Number(match[1]) >= Number(match[2]))
    throw new InvalidArgumentError('must be <from>-<to> in seconds after start, from before to, e.g. 30-90')
  return [...previous, [Number(match[1]), Number(match[2])]]
}

function registerVerify(program: Command): void {
  const verify = program
    .command('verify-es')
    .description(
      'check Spanish fiscal files independently of the code that wrote them (exit code 1 on any problem)',
    )
  verify
    .command('verifactu')
    .description(
      'check VERI*FACTU submissions (RegFactuSistemaFacturacion XML, bare or in a SOAP envelope): every Huella, every chain link, the totals',
    )
    .argument('<files...>', 'XML files, in chain order')
    .option('--json', 'print the report as JSON')
    .action((files: string[], options: { json?: boolean }) => verifyVerifactuFiles(files, options))
  verify
    .command('ticketbai')
    .description(
      'check signed TicketBAI invoices: XAdES signature, territory policy, chaining, TBAI identifier',
    )
    .argument('<files...>', 'signed XML files of one issuer, in chain order')
    .option('--json', 'print the report as JSON')
    .action(async (files: string[], options: { json?: boolean }) => {
      const { TicketBaiVerifier } = await import('../../../verify/ticketbai-verifier.ts')
      verifyDocuments(
        new TicketBaiVerifier(),
        files,
        options,
        (report) =>
          `OK: ${report.invoices.length} invoice(s), signatures and chain verified\n${report.invoices.map((i) => `  ${i.identifier ?? `cancels ${i.cancels}`} (${i.territory}) ${i.file}`).join('\n')}`,
      )
    })
}

/** Checks VERI*FACTU XML files given in chain order (also `fiscalbox verify FILE` for such a file). */
export async function verifyVerifactuFiles(files: string[], options: { json?: boolean }): Promise<void> {
  const { VerifactuVerifier } = await import('../../../verify/verifactu-verifier.ts')
  verifyDocuments(new VerifactuVerifier(), files, options, verifactuSummary)
}

/** What was checked, for VERI*FACTU files without problems. */
export const verifactuSummary = (report: VerifactuReport) =>
  `OK: ${report.records} records in ${report.chains} chain(s), every Huella and link verified`

/**
 * Feeds the files, in chain order, to a verifier that reads one XML document at a time, then prints its
 * report: as JSON, `ok` when nothing is wrong, or the problems.
 */
function verifyDocuments<R extends { problems: string[] }>(
  verifier: { document(xml: string, file: string): void; finish(): R },
  files: string[],
  options: { json?: boolean },
  ok: (report: R) => string,
): void {
  const shown = progress('verifying files', files.length)
  files.forEach((file, i) => {
    verifier.document(readFileSync(file, 'utf8'), file)
    shown.update(i + 1)
  })
  shown.done(files.length)
  const report = verifier.finish()
  conclude(report.problems, options.json ? JSON.stringify(report) : undefined, ok(report))
}

function conclude(problems: string[], json: string | undefined, ok: string): void {
  if (json) process.stdout.write(`${json}\n`)
  else if (problems.length === 0) process.stdout.write(`${ok}\n`)
  else
    process.stdout.write(
      `FAILED: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}\n`,
    )
  process.exitCode = problems.length === 0 ? 0 : 1
}

/**
 * `fiscalbox es configure | show`: the Spanish configuration of an ES cash box of /v2/sign;
 * `fiscalbox es lroe-run`: its held LROE batch sent now.
 */
function registerEsCommands(program: Command): void {
  const es = program
    .command('es')
    .description('Spain (VERI*FACTU, TicketBAI): configure the ES cash boxes of /v2/sign')
  es.command('configure')
    .description(
      'set the system, territory, issuer, series and environment of an ES cash box (before its first invoice)',
    )
    .requiredOption('--cashbox <id>', 'cash box id (created with `fiscalbox cashbox create --country ES`)')
    .requiredOption('--system <system>', 'verifactu or ticketbai')
    .option('--territory <territory>', 'TicketBAI: araba, bizkaia or gipuzkoa')
    .requiredOption('--nif <nif>', "the issuer's NIF, e.g. B12345674")
    .requiredOption('--name <name>', "the issuer's legal name")
    .option('--series <series>', 'invoice series (default FB{cash box id}-)')
    .option('--rectifying-series <series>', 'series of rectifying invoices (default: the series + R)')
    .option('--environment <env>', 'test (records go to the simulator) or production', 'test')
    .option(
      '--certificate-id <id>',
      "a stored certificate of the cash box's account (`fiscalbox certificates import`): signs TicketBAI invoices, authenticates submissions; required for production",
    )
    .option('--json', 'print JSON for scripts')
    .action(
      async (
        o: Omit<EsConfigRequest, 'certificate_id'> & {
          cashbox: string
          certificateId?: string
          json?: boolean
        },
      ) => {
        const { cashbox: id, json, certificateId, ...request } = o
        const config = await withCountryCashbox('ES', id, (runtime, cashbox) =>
          esServicesOf(runtime.marketFor).configure(cashbox, {
            ...request,
            ...(certificateId === undefined ? {} : { certificate_id: certificateId }),
          }),
        )
        printFields(config, json)
      },
    )
  es.command('show')
    .description('print the Spanish configuration of an ES cash box')
    .requiredOption('--cashbox <id>', 'cash box id')
    .option('--json', 'print JSON for scripts')
    .action(async (o: { cashbox: string; json?: boolean }) => {
      const config = await withCountryCashbox('ES', o.cashbox, (runtime, cashbox) =>
        esServicesOf(runtime.marketFor).describe(cashbox),
      )
      printFields(config, o.json)
    })
  es.command('lroe-run')
    .description(
      "make a Bizkaia cash box's records held for the daily LROE batch due now (the workers of `fiscalbox serve` send them)",
    )
    .requiredOption('--cashbox <id>', 'cash box id')
    .option('--json', 'print JSON for scripts')
    .action(async (o: { cashbox: string; json?: boolean }) => {
      const released = await withCountryCashbox('ES', o.cashbox, (runtime, cashbox) =>
        runtime.v1.jobs.releaseWindow(cashboxJobScope(cashbox), 'lroe'),
      )
      printFields({ window: 'lroe', released }, o.json)
    })
}
