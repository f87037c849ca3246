import type { Command } from 'commander'
import { Option } from 'commander'
import { loadConfig } from '../../../config.ts'
import { writeTssTar } from '../exports.ts'
import { openRuntime } from '../../../runtime.ts'
import { progress } from '../../../cli/progress.ts'
import { deServicesOf } from '../services.ts'

/** Germany's commands: SIGN DE API credentials and the TSS TAR export. */
export function registerSignDeCommands(program: Command, exporter: Command): void {
  const signDe = program.command('sign-de').description('the SIGN DE v2 API (/api/v2): credentials')
  signDe
    .command('credentials')
    .description('manage SIGN DE API credentials')
    .command('create')
    .description('create an api_key and api_secret for POST /api/v2/auth (the secret is shown only once)')
    .addOption(
      new Option('--env <env>', 'the _env the API answers with').choices(['LIVE', 'TEST']).default('LIVE'),
    )
    .option(
      '--organization <uuid>',
      'add the credentials to an existing organization (its TSS become visible)',
    )
    .option('--json', 'print JSON for scripts: {api_key, api_secret, organization_id, env}')
    .action(async (options: { env: 'LIVE' | 'TEST'; organization?: string; json?: boolean }) => {
      const runtime = await openRuntime(loadConfig())
      try {
        const created = await deServicesOf(runtime.marketFor).credentials.create(
          options.env,
          options.organization,
        )
        process.stdout.write(
          options.json
            ? `${JSON.stringify(created)}\n`
            : `api_key:         ${created.api_key}\napi_secret:      ${created.api_secret}\norganization_id: ${created.organization_id}\nenv:             ${created.env}\nThe secret is shown only now: store it in the POS.\n`,
        )
      } finally {
        await runtime.close()
      }
    })

  exporter
    .command('tar')
    .description(
      'write the TR-03151 TAR export of a TSS (every log message so far and its certificate chain)',
    )
    .requiredOption('--tss <id>', 'TSS id (the UUID used in PUT /api/v2/tss/{tss_id})')
    .requiredOption('--out <file>', 'TAR file to write')
    .action(async (options: { tss: string; out: string }) => {
      const runtime = await openRuntime(loadConfig())
      try {
        const shown = progress('log messages')
        const result = await writeTssTar(
          deServicesOf(runtime.marketFor),
          options.tss.toLowerCase(),
          options.out,
          shown.update,
        )
        shown.done(result.logMessages)
        process.stdout.write(
          `wrote ${result.logMessages} log messages and ${result.certificates} certificates (${result.bytes} bytes) to ${options.out}\n`,
        )
      } finally {
        await runtime.close()
      }
    })
}
