import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { invalid } from '../../core/errors.ts'
import { parseReceipt } from '../../core/receipt.ts'
import type { ExportFormat, ExportPeriod } from '../module.ts'
import { archiveSummary } from './cli/verify-archive.ts'
import { frServicesOf } from './services.ts'
import { verifyArchive } from './verify/archive.ts'

/** The archived period: a year or a month (the market refuses one that is not a real month). */
function archivePeriod(period: ExportPeriod): string {
  if (!/^\d{4}(-\d{2})?$/.test(period.from ?? ''))
    throw invalid('from', 'must be a year (2026) or a month (2026-03)')
  return period.from as string
}

/**
 * A French archive: an archive receipt signed on the queue for the period (a year or a month, at most one
 * fiscal year), then the file of its entries. Writing one is a fiscal act: the archive entry stays in the chain.
 */
export const archiveExport: ExportFormat = {
  id: 'fr-archive',
  label: 'Signed archive (JSON Lines)',
  extension: '.jsonl',
  mediaType: 'application/x-ndjson',
  period: { from: 'a year (2026) or a month (2026-03), in Paris time', required: true },
  checkPeriod: (period) => void archivePeriod(period),
  async write(runtime, cashbox, period, out, progress) {
    const archived = archivePeriod(period)
    const body = {
      cbReceiptReference: `archive-${archived}-${randomUUID()}`,
      cbReceiptMoment: new Date().toISOString(),
      ftReceiptCase: '0x4652200000003011',
      cbChargeItems: [],
      cbPayItems: [],
      ftReceiptCaseData: { FR: { ArchivePeriod: archived } },
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
    const { publicKey } = await runtime.cashboxes.signer(cashbox.queueId)
    const file = createWriteStream(out)
    let lines = 0
    for await (const line of archives.lines(cashbox.id, publicKey, archive)) {
      progress(++lines)
      if (!file.write(line)) await once(file, 'drain')
    }
    file.end()
    await once(file, 'finish')
    // The first line is the header, the last the signed archive entry.
    return { files: [out], items: lines - 2 }
  },
  async verify(_runtime, _cashbox, files) {
    const report = await verifyArchive(files[0] as string)
    return { ok: report.problems.length === 0, summary: archiveSummary(report), problems: report.problems }
  },
}

export const frenchExports: readonly ExportFormat[] = [archiveExport]
