import type { Command } from 'commander'
import { loadConfig } from '../../../config.ts'
import { FiscalError } from '../../../core/errors.ts'
import { writeDsfinvkDirectory } from '../dsfinvk/archive.ts'
import { writeDsfinvkTar } from '../exports.ts'
import { openRuntime } from '../../../runtime.ts'
import { deServicesOf } from '../services.ts'

/** `fiscalbox export dsfinvk`: the DSFinV-K export of a German cash box (docs/country-de.md). */
export function registerDsfinvkCommand(exporter: Command): void {
  exporter
    .command('dsfinvk')
    .description(
      'write the DSFinV-K export (index.xml and the CSV files) of a German cash box for a range of its cash point closings',
    )
    .requiredOption('--cashbox <id>', 'the cash box (created with --country DE)')
    .option('--from <z-or-day>', 'first closing: its number (Z_NR) or business day (YYYY-MM-DD)')
    .option('--to <z-or-day>', 'last closing: its number (Z_NR) or business day (YYYY-MM-DD)')
    .requiredOption('--out <dir|file.tar>', 'a directory for the files, or a file ending in .tar')
    .action(async (options: { cashbox: string; from?: string; to?: string; out: string }) => {
      const runtime = await openRuntime(loadConfig())
      try {
        const cashbox = await runtime.cashboxes.find(options.cashbox.toLowerCase())
        if (!cashbox) throw new Error(`no cash box ${options.cashbox}: see \`fiscalbox cashbox list\``)
        if (cashbox.country !== 'DE')
          throw new Error(`cash box ${cashbox.id} is ${cashbox.country}: DSFinV-K is for German cash boxes`)
        const range = { from: options.from, to: options.to }
        const exported = options.out.endsWith('.tar')
          ? await writeDsfinvkTar(runtime, cashbox, range, options.out)
          : await deServicesOf(runtime.marketFor).dsfinvk.export(
              { queueId: cashbox.queueId, cashboxId: cashbox.id },
              range,
            )
        if (!options.out.endsWith('.tar')) await writeDsfinvkDirectory(exported, options.out)
        process.stdout.write(
          `wrote DSFinV-K for closings ${exported.closings.join(', ')} (${exported.receipts} receipts, ${exported.files.length} files) to ${options.out}\n`,
        )
      } catch (error) {
        if (error instanceof FiscalError) {
          process.stderr.write(`${error.message}\n`)
          process.exitCode = 1
          return
        }
        throw error
      } finally {
        await runtime.close()
      }
    })
}
