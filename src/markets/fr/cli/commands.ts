import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import type { Command } from 'commander'
import { printFields, withCountryCashbox } from '../../../cli/country-cashbox.ts'
import { progress } from '../../../cli/progress.ts'
import { parseReceipt } from '../../../core/receipt.ts'
import { frServicesOf } from '../services.ts'

/**
 * `fiscalbox fr configure | show` (the establishment of a French cash box) and `fiscalbox export
 * archive-fr` (an archive receipt signed on the queue, then its file).
 */
export function registerFrCommands(program: Command, exporter: Command): void {
  const fr = program.command('fr').description('France: the establishment (SIRET, name) of the FR cash boxes')
  fr.command('configure')
    .description(
      'set the SIRET and business name of an FR cash box; a change is journaled with its next receipt',
    )
    .requiredOption('--cashbox <id>', 'cash box id (created with `fiscalbox cashbox create --country FR`)')
    .requiredOption('--siret <digits>', "the establishment's SIRET (14 digits)")
    .requiredOption('--name <text>', 'the business name')
    .option('--json', 'print JSON for scripts')
    .action(async (o: { cashbox: string; siret: string; name: string; json?: boolean }) => {
      const config = await withCountryCashbox('FR', o.cashbox, (runtime, cashbox) =>
        frServicesOf(runtime.marketFor).configuration.configure(cashbox.id, { siret: o.siret, name: o.name }),
      )
      printFields(config, o.json)
    })
  fr.command('show')
    .description('print the establishment of an FR cash box')
    .requiredOption('--cashbox <id>', 'cash box id')
    .option('--json', 'print JSON for scripts')
    .action(async (o: { cashbox: string; json?: boolean }) => {
      const config = await withCountryCashbox('FR', o.cashbox, (runtime, cashbox) =>
        frServicesOf(runtime.marketFor).configuration.describe(cashbox.id),
      )
      printFields(config, o.json)
    })

  exporter
    .command('archive-fr')
    .description(
      'sign a French archive entry for a period (at most one fiscal year) and write the archive file for auditors and `fiscalbox verify`',
    )
    .requiredOption('--cashbox <id>', 'cash box id (created with `fiscalbox cashbox create --country FR`)')
    .requiredOption('--period <period>', 'a year (2026) or a month (2026-03), in Paris time')
    .requiredOption('--out <file>', 'file to write the archive (JSON Lines) to')
    .action(async (o: { cashbox: string; period: string; out: string }) => {
      const written = await withCountryCashbox('FR', o.cashbox, async (runtime, cashbox) => {
        const body = {
          cbReceiptReference: `archive-${o.period}-${randomUUID()}`,
          cbReceiptMoment: new Date().toISOString(),
          ftReceiptCase: '0x4652200000003011',
          cbChargeItems: [],
          cbPayItems: [],
          ftReceiptCaseData: { FR: { ArchivePeriod: o.period } },
        }
        const response = JSON.parse(
          await runtime.signService.sign({
            cashbox,
            operationId: randomUUID(),
            lifetimeMs: 30_000,
            body,
            receipt: parseReceipt(body),
          }),
        ) as { ftState: string; ftSignatures: Array<{ ftSignatureFormat: string; Data: string }> }
        const archive = response.ftSignatures.find((s) => BigInt(s.ftSignatureFormat) === 0x3n)?.Data
        if (!archive) {
          throw new Error(
            `the cash box signed no archive entry (ftState ${response.ftState}): it must be started and not stopped`,
          )
        }
        const { archives } = frServicesOf(runtime.marketFor)
        const { publicKey } = await runtime.cashboxes.publicKey(cashbox.queueId)
        const file = createWriteStream(o.out)
        const shown = progress('writing archive entries')
        let lines = 0
        for await (const line of archives.lines(cashbox.id, publicKey, archive)) {
          shown.update(++lines)
          if (!file.write(line)) await once(file, 'drain')
        }
        file.end()
        await once(file, 'finish')
        shown.done(lines)
        return lines - 2
      })
      process.stdout.write(`wrote the ${o.period} archive with ${written} entries to ${o.out}\n`)
    })
}
