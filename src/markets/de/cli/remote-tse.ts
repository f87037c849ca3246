import { writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import { printFields, withCountryCashbox } from '../../../cli/country-cashbox.ts'
import { integer } from '../../../cli/option-values.ts'
import { MAX_REMOTE_TIMEOUT_MS } from '../remote/bounds.ts'
import { deServicesOf } from '../services.ts'

/** The secret comes from the environment: a command line is visible to every user of the machine. */
export const SECRET_VARIABLE = 'FISCALBOX_TSE_API_SECRET'

interface ConfigureOptions {
  cashbox: string
  baseUrl: string
  apiKey: string
  tss?: string
  client?: string
  timeoutMs?: number
  json?: boolean
}

/** `fiscalbox de remote-tse configure | show | export`: DE cash boxes on a certified cloud TSE. */
export function registerRemoteTseCommands(program: Command): void {
  const remote = program
    .command('de')
    .description('Germany: the DE cash boxes of /v2/sign')
    .command('remote-tse')
    .description('put a DE cash box on a certified cloud TSE (SIGN DE v2 API); see docs/remote-tse.md')
  remote
    .command('configure')
    .description(
      `create and initialize the TSS and client on the remote TSE, or adopt existing ones (before the start receipt); the api_secret is read from ${SECRET_VARIABLE}, the admin PIN of an adopted TSS from FISCALBOX_TSE_ADMIN_PIN`,
    )
    .requiredOption('--cashbox <id>', 'cash box id (created with `fiscalbox cashbox create --country DE`)')
    .requiredOption('--base-url <url>', 'the TSE API, e.g. https://kassensichv-middleware.fiskaly.com')
    .requiredOption('--api-key <key>', 'api_key of POST /api/v2/auth')
    .option('--tss <uuid>', 'adopt this TSS instead of creating one')
    .option('--client <uuid>', 'adopt this client instead of registering one')
    .option(
      '--timeout-ms <n>',
      'one exchange with the TSE (default 5000)',
      integer(100, MAX_REMOTE_TIMEOUT_MS),
    )
    .option('--json', 'print JSON for scripts')
    .action(async (o: ConfigureOptions) => {
      const apiSecret = process.env[SECRET_VARIABLE]
      if (!apiSecret) throw new Error(`set ${SECRET_VARIABLE} to the api_secret of the remote TSE`)
      const adminPin = process.env.FISCALBOX_TSE_ADMIN_PIN
      const view = await withCountryCashbox('DE', o.cashbox, (runtime, cashbox) =>
        deServicesOf(runtime.marketFor).remote.configure(cashbox, {
          baseUrl: o.baseUrl,
          apiKey: o.apiKey,
          apiSecret,
          ...(o.tss ? { tssId: o.tss } : {}),
          ...(o.client ? { clientId: o.client } : {}),
          ...(adminPin ? { adminPin } : {}),
          ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
        }),
      )
      printFields(view, o.json)
    })
  remote
    .command('show')
    .description('print the remote TSE of a DE cash box (never its secret)')
    .requiredOption('--cashbox <id>', 'cash box id')
    .option('--json', 'print JSON for scripts')
    .action(async (o: { cashbox: string; json?: boolean }) => {
      const view = await withCountryCashbox('DE', o.cashbox, (runtime, cashbox) =>
        deServicesOf(runtime.marketFor).remote.view(cashbox.queueId),
      )
      if (!view) throw new Error(`cash box ${o.cashbox} signs with the software TSS`)
      printFields(view, o.json)
    })
  remote
    .command('export')
    .description(
      'pull a TAR export of the whole TSS from the remote TSE, keep it in the database and write it',
    )
    .requiredOption('--cashbox <id>', 'cash box id')
    .requiredOption('--out <file>', 'TAR file to write')
    .action(async (o: { cashbox: string; out: string }) => {
      await withCountryCashbox('DE', o.cashbox, async (runtime, cashbox) => {
        const remote = deServicesOf(runtime.marketFor).remote
        const pulled = await remote.pullExport(cashbox.queueId)
        writeFileSync(o.out, (await remote.store.exportTar(cashbox.queueId, pulled.exportId)) as Buffer)
        process.stdout.write(
          `export ${pulled.exportId}: ${pulled.bytes} bytes kept and written to ${o.out}\n`,
        )
      })
    })
}
