import type { Command } from 'commander'
import { loadConfig } from '../config.ts'
import type { CashboxRecord } from '../core/ports.ts'
import type { EsConfigRequest } from '../markets/es/pos/configuration.ts'
import { esServicesOf } from '../markets/es/pos/index.ts'
import { cashboxJobScope } from '../markets/es/pos/ports.ts'
import { openRuntime, type Runtime } from '../runtime.ts'

async function withEsCashbox<T>(
  cashboxId: string,
  use: (runtime: Runtime, cashbox: CashboxRecord) => Promise<T>,
): Promise<T> {
  const runtime = await openRuntime(loadConfig())
  try {
    const cashbox = await runtime.cashboxes.find(cashboxId)
    if (!cashbox) throw new Error(`no cash box ${cashboxId}: see \`fiscalbox cashbox list\``)
    if (cashbox.country !== 'ES')
      throw new Error(`cash box ${cashboxId} is a ${cashbox.country} cash box: create one with --country ES`)
    return await use(runtime, cashbox)
  } finally {
    await runtime.close()
  }
}

const print = (value: unknown, json: boolean | undefined) =>
  process.stdout.write(
    json
      ? `${JSON.stringify(value)}\n`
      : `${Object.entries(value as Record<string, unknown>)
          .map(([k, v]) => `${`${k}:`.padEnd(18)}${String(v)}`)
          .join('\n')}\n`,
  )

/**
 * `fiscalbox es configure | show`: the Spanish configuration of an ES cash box of /v2/sign;
 * `fiscalbox es lroe-run`: its held LROE batch sent now.
 */
export function registerEsCommands(program: Command): void {
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
    .option('--json', 'print JSON for scripts')
    .action(async (o: EsConfigRequest & { cashbox: string; json?: boolean }) => {
      const { cashbox: id, json, ...request } = o
      const config = await withEsCashbox(id, (runtime, cashbox) =>
        esServicesOf(runtime.marketFor).configure(cashbox, request),
      )
      print(config, json)
    })
  es.command('show')
    .description('print the Spanish configuration of an ES cash box')
    .requiredOption('--cashbox <id>', 'cash box id')
    .option('--json', 'print JSON for scripts')
    .action(async (o: { cashbox: string; json?: boolean }) => {
      const config = await withEsCashbox(o.cashbox, (runtime, cashbox) =>
        esServicesOf(runtime.marketFor).describe(cashbox.queueId),
      )
      print(config, o.json)
    })
  es.command('lroe-run')
    .description(
      "make a Bizkaia cash box's records held for the daily LROE batch due now (the workers of `fiscalbox serve` send them)",
    )
    .requiredOption('--cashbox <id>', 'cash box id')
    .option('--json', 'print JSON for scripts')
    .action(async (o: { cashbox: string; json?: boolean }) => {
      const released = await withEsCashbox(o.cashbox, (runtime, cashbox) =>
        runtime.v1.jobs.releaseWindow(cashboxJobScope(cashbox), 'lroe'),
      )
      print({ window: 'lroe', released }, o.json)
    })
}
