import type { CashboxRecord } from '../core/ports.ts'
import { marketModules } from '../markets/index.ts'
import type { ExportFormat } from '../markets/module.ts'
import type { Runtime } from '../runtime.ts'
import type { VerifyReport } from '../verify/jsonl-export.ts'
import { JournalVerifier } from '../verify/journal-verifier.ts'
import { verifyJsonlFile } from '../verify/verify-file.ts'
import { exportJournal } from './export-journal.ts'

/** What was checked, for a journal export without problems. */
export const journalSummary = (report: VerifyReport) =>
  `OK: ${report.receipts} receipts, chain verified, head ${report.head}`

/** The journal export: every cash box's, whatever its country. */
export const journalExport: ExportFormat = {
  id: 'journal',
  label: 'Journal export (JSON Lines)',
  extension: '.jsonl',
  mediaType: 'application/x-ndjson',
  async write(runtime, cashbox, _period, out, progress) {
    return { files: [out], items: await exportJournal(runtime, cashbox.id, out, progress) }
  },
  async verify(_runtime, _cashbox, files) {
    const report = await verifyJsonlFile(files[0] as string, new JournalVerifier())
    return { ok: report.problems.length === 0, summary: journalSummary(report), problems: report.problems }
  },
}

/** The export formats of a cash box: the journal export, then those of its country's module that apply. */
export async function exportFormatsOf(runtime: Runtime, cashbox: CashboxRecord): Promise<ExportFormat[]> {
  const formats = [journalExport]
  for (const module of marketModules) {
    if (module.country !== cashbox.country) continue
    for (const format of (await module.exports?.()) ?? [])
      if ((await format.appliesTo?.(runtime, cashbox)) ?? true) formats.push(format)
  }
  return formats
}

/** The format with this id, whichever module has it. */
export async function exportFormatById(id: string): Promise<ExportFormat | undefined> {
  if (id === journalExport.id) return journalExport
  for (const module of marketModules)
    for (const format of (await module.exports?.()) ?? []) if (format.id === id) return format
  return undefined
}
