import type { Command } from 'commander'
import type { ItConfigRequest } from '../configuration.ts'
import { DEFAULT_DEPARTMENTS, DEFAULT_TIMEOUT_MS } from '../configuration.ts'
import { itServicesOf } from '../services.ts'
import { printFields, withCountryCashbox } from '../../../cli/country-cashbox.ts'

/** `fiscalbox it configure | show`: the RT device of an IT cash box of /v2/sign. */
export function registerItCommands(program: Command): void {
  const it = program.command('it').description('Italy (RT devices): configure the IT cash boxes of /v2/sign')
  it.command('configure')
    .description(
      "set the RT device of an IT cash box: its kind, URL, timeout and VAT rate to department map (before the device's first document)",
    )
    .requiredOption('--cashbox <id>', 'cash box id (created with `fiscalbox cashbox create --country IT`)')
    .requiredOption('--device <kind>', 'epson-rt (an Epson RT printer or server, fpmate protocol)')
    .requiredOption('--url <url>', "the device's base URL, e.g. http://192.168.1.20")
    .option(
      '--timeout-ms <n>',
      `wait for one answer before reading back the last document (default ${DEFAULT_TIMEOUT_MS})`,
    )
    .option('--departments <map>', `VAT rate=department, comma separated (default ${DEFAULT_DEPARTMENTS})`)
    .option(
      '--failed-mode',
      'hold documents while the device cannot be reached (ftState 0x2); the next zero receipt that reaches it sends them',
    )
    .option('--json', 'print JSON for scripts')
    .action(async (o: ItConfigRequest & { cashbox: string; json?: boolean }) => {
      const { cashbox: id, json, ...request } = o
      const config = await withCountryCashbox('IT', id, (runtime, cashbox) =>
        itServicesOf(runtime.marketFor).configure(cashbox, request),
      )
      printFields(config, json)
    })
  it.command('show')
    .description('print the RT device configuration of an IT cash box')
    .requiredOption('--cashbox <id>', 'cash box id')
    .option('--json', 'print JSON for scripts')
    .action(async (o: { cashbox: string; json?: boolean }) => {
      const config = await withCountryCashbox('IT', o.cashbox, (runtime, cashbox) =>
        itServicesOf(runtime.marketFor).describe(cashbox.queueId),
      )
      printFields(config, o.json)
    })
}
