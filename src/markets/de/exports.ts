import { createWriteStream } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ErrorCode, FiscalError } from '../../core/errors.ts'
import type { CashboxRecord } from '../../core/ports.ts'
import type { Runtime } from '../../runtime.ts'
import { formatDsfinvkReport, verifyDsfinvkExport } from '../../verify/dsfinvk/verify-file.ts'
import { formatTssExportReport, verifyTssExportFile } from '../../verify/tss-export/verify-file.ts'
import type { ExportFormat, ExportProgress } from '../module.ts'
import { dsfinvkTar } from './dsfinvk/archive.ts'
import { writeTssExport } from './export/index.ts'
import { type DeServices, deServicesOf } from './services.ts'
import { tarExportContent } from './tss/tar-export.ts'

/** Writes the TR-03151 TAR export of a TSS (every log message so far) to `out`. */
export async function writeTssTar(
  services: DeServices,
  tssId: string,
  out: string,
  progress: ExportProgress,
): Promise<{ logMessages: number; certificates: number; bytes: number }> {
  const { tss, selection } = await services.tss.fullSelection(tssId)
  progress(0, selection.uptoSignatureCounter)
  const result = await writeTssExport(
    await tarExportContent(services.tss, tss, selection),
    createWriteStream(out),
    ({ logMessages }) => progress(logMessages),
  )
  progress(result.logMessages)
  return result
}

/** The TSS of a German /v2/sign cash box, created with its start receipt. */
async function tssOf(services: DeServices, cashbox: CashboxRecord): Promise<string> {
  const box = await services.market.cashbox(cashbox.queueId)
  if (!box)
    throw new FiscalError(
      ErrorCode.MarketNotConfigured,
      'this German cash box has no TSS yet: send its start receipt first',
    )
  return box.tssId
}

const tar: ExportFormat = {
  id: 'de-tar',
  label: 'TSS TAR export (TR-03151)',
  extension: '.tar',
  mediaType: 'application/x-tar',
  async write(runtime, cashbox, _period, out, progress) {
    const services = deServicesOf(runtime.marketFor)
    const written = await writeTssTar(services, await tssOf(services, cashbox), out, progress)
    return { files: [out], items: written.logMessages }
  },
  async verify(_runtime, _cashbox, files) {
    const report = await verifyTssExportFile(files[0] as string)
    const text = formatTssExportReport(report)
    return {
      ok: report.problemCount === 0,
      summary: text.split('\n')[0] as string,
      problems: report.problems,
    }
  },
}

/** Writes the DSFinV-K export (index.xml and the CSV files as one TAR) of a range of closings to `out`. */
export async function writeDsfinvkTar(
  runtime: Runtime,
  cashbox: CashboxRecord,
  range: { from?: string | undefined; to?: string | undefined },
  out: string,
) {
  const exported = await deServicesOf(runtime.marketFor).dsfinvk.export(
    { queueId: cashbox.queueId, cashboxId: cashbox.id },
    range,
  )
  await pipeline(Readable.from(dsfinvkTar(exported)), createWriteStream(out))
  return exported
}

const dsfinvk: ExportFormat = {
  id: 'de-dsfinvk',
  label: 'DSFinV-K (index.xml and CSV files in a TAR)',
  extension: '.tar',
  mediaType: 'application/x-tar',
  period: { from: 'first closing: its number (Z_NR) or day (YYYY-MM-DD)', to: 'last closing' },
  async write(runtime, cashbox, period, out, progress) {
    const exported = await writeDsfinvkTar(runtime, cashbox, period, out)
    progress(exported.receipts, exported.receipts)
    return { files: [out], items: exported.receipts }
  },
  async verify(_runtime, _cashbox, files) {
    const file = files[0] as string
    const report = await verifyDsfinvkExport(file)
    if (!report)
      return { ok: false, summary: `FAILED: ${file} is no DSFinV-K export`, problems: ['no index.xml first'] }
    return {
      ok: report.ok,
      summary: formatDsfinvkReport(report).split('\n')[0] as string,
      problems: report.problems,
    }
  },
}

/** Germany's audit exports of a cash box: its TSS's TAR export and DSFinV-K. */
export const germanExports: readonly ExportFormat[] = [tar, dsfinvk]
