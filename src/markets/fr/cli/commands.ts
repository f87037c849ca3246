import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import type { Command } from 'commander'
import { withCountryCashbox } from '../../../cli/country-cashbox.ts'
import { progress } from '../../../cli/progress.ts'
import { parseReceipt } from '../../../core/receipt.ts'
import { marketServices } from '../../module.ts'
import type { FrArchives } from '../archive.ts'
import { FR_COUNTRY } from '../market.ts'

/** `fiscalbox export archive-fr`: an archive receipt signed on the queue, then its file. */
export function registerFrCommands(exporter: Command): void {
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
        const archives = marketServices<FrArchives>(runtime.marketFor, FR_COUNTRY, 'archives')
        const { publicKey } = await runtime.cashboxes.signer(cashbox.queueId)
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
