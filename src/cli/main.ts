import { stat } from 'node:fs/promises'
import { Command, Option } from 'commander'
import { text } from 'node:stream/consumers'
import { loadConfig } from '../config.ts'
import { DEFAULT_ACCOUNT_ID } from '../core/cashboxes.ts'
import { marketModules } from '../markets/index.ts'
import { openRuntime } from '../runtime.ts'
import { JournalVerifier } from '../verify/journal-verifier.ts'
import { verifyJsonlFile } from '../verify/verify-file.ts'
import { journalSummary } from './export-formats.ts'
import { exportJournal } from './export-journal.ts'
import { addCertificateCommands } from './certificates.ts'
import { addTransactionsExport, verifierFor } from './export-transactions.ts'
import { progress } from './progress.ts'

const program = new Command('fiscalbox')
  .description(
    'Fiscalization middleware. Configuration comes from the environment: DATABASE_URL, PORT, FISCALBOX_DATA_DIR, FISCALBOX_MASTER_KEY (see README).',
  )
  .showHelpAfterError('(run with --help for usage)')

program
  .command('serve')
  .description('start the HTTP server (creates and starts a demo cash box on an empty database)')
  // Loaded only here: the HTTP stack is a second of start-up that the other commands do not need.
  .action(async () => (await import('./serve.ts')).serve(loadConfig()))

program
  .command('migrate')
  .description('create or upgrade the database schema of DATABASE_URL, then exit')
  .action(async () => {
    const runtime = await openRuntime(loadConfig())
    await runtime.close()
    process.stdout.write('database is up to date\n')
  })

const cashbox = program.command('cashbox').description('manage cash boxes directly in DATABASE_URL')
cashbox
  .command('create')
  .description(
    'create a cash box with its queue and signing key; prints its id and access token (shown only once)',
  )
  .requiredOption('--country <CC>', 'two-letter country code, e.g. EU (generic), DE, AT')
  .option('--label <text>', 'a name for people', '')
  .option('--json', 'print JSON for scripts')
  .action(async (options: { country: string; label: string; json?: boolean }) => {
    const runtime = await openRuntime(loadConfig())
    try {
      const created = await runtime.cashboxes.create(options.country.toUpperCase(), options.label)
      process.stdout.write(
        options.json
          ? `${JSON.stringify(created)}\n`
          : `cashboxId:   ${created.cashboxId}\naccessToken: ${created.accessToken}\nqueueId:     ${created.queueId}\ncountry:     ${created.country}\nThe access token is shown only now: store it in the POS.\n`,
      )
    } finally {
      await runtime.close()
    }
  })
cashbox
  .command('list')
  .description('list cash boxes (never their tokens)')
  .option('--json', 'print JSON for scripts')
  .action(async (options: { json?: boolean }) => {
    const runtime = await openRuntime(loadConfig())
    try {
      const rows = (await runtime.cashboxes.list()).map((c) => ({
        cashboxId: c.id,
        queueId: c.queueId,
        country: c.country,
        label: c.label,
        createdAt: c.createdAt,
      }))
      process.stdout.write(
        options.json
          ? `${JSON.stringify(rows)}\n`
          : rows.map((r) => `${r.cashboxId}  ${r.country}  queue ${r.queueId}  ${r.label}`).join('\n') +
              (rows.length ? '\n' : 'no cash boxes\n'),
      )
    } finally {
      await runtime.close()
    }
  })

program
  .command('operator')
  .description('manage the operators who sign in to the dashboard at /dashboard')
  .command('create')
  .description(
    'create an operator; prints the password, generated unless given on standard input (shown only once)',
  )
  .requiredOption('--email <address>', 'the sign-in name')
  .option('--account <id>', 'the account whose cash boxes and locations it sees', DEFAULT_ACCOUNT_ID)
  .option('--password-stdin', 'read the password (at least 12 characters) from standard input')
  .action(async (options: { email: string; account: string; passwordStdin?: boolean }) => {
    const given = options.passwordStdin ? (await text(process.stdin)).replace(/\r?\n$/, '') : undefined
    const runtime = await openRuntime(loadConfig())
    try {
      const { operator, password } = await runtime.operators.create(options.account, options.email, given)
      process.stdout.write(
        `operator: ${operator.email}\naccount:  ${operator.accountId}\n${given ? '' : `password: ${password}\nThe password is shown only now.\n`}`,
      )
    } finally {
      await runtime.close()
    }
  })

addCertificateCommands(program)

const exporter = program.command('export').description('write audit exports')
exporter
  .command('journal')
  .description("write a cash box's receipt journal as a journal export (JSON Lines) for `fiscalbox verify`")
  .requiredOption('--cashbox <id>', 'cash box id')
  .requiredOption('--out <file>', 'file to write')
  .action(async (options: { cashbox: string; out: string }) => {
    const runtime = await openRuntime(loadConfig())
    try {
      const shown = progress('exporting receipts')
      const count = await exportJournal(runtime, options.cashbox, options.out, shown.update)
      shown.done(count)
      process.stdout.write(`wrote ${count} receipts to ${options.out}\n`)
    } finally {
      await runtime.close()
    }
  })

addTransactionsExport(exporter)

const verify = program
  .command('verify')
  .description('check a journal export: numbering, hash chain, request/response hashes and every signature')
  .argument('<file>', 'journal export written by `fiscalbox export journal` (or `export transactions`)')
  .addOption(new Option('--json', 'print the report as JSON'))
// The export formats of the countries: each module recognizes its own files.
for (const { verify: market } of marketModules) {
  if (market?.help) verify.addHelpText('after', market.help)
  for (const option of market?.options ?? []) verify.addOption(new Option(option.flags, option.description))
}
verify.action(async (file: string, options: { json?: boolean }) => {
  for (const module of marketModules) if (await module.verify?.run(file, options)) return
  const size = (await stat(file)).size
  const verifier = (await verifierFor(file)) ?? new JournalVerifier()
  const shown = progress('verifying bytes', size)
  const report = await verifyJsonlFile(file, verifier, (bytes) => shown.update(bytes))
  shown.done(size)
  if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`)
  else if (report.problems.length === 0) process.stdout.write(`${journalSummary(report)}\n`)
  else
    process.stdout.write(
      `FAILED: ${report.problems.length} problem(s) in ${report.receipts} receipts\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`,
    )
  process.exitCode = report.problems.length === 0 ? 0 : 1
})

for (const module of marketModules) await module.commands?.(program, exporter)

program.parseAsync().catch((error: Error) => {
  process.stderr.write(`fiscalbox: ${error.message}\n`)
  process.exit(1)
})
