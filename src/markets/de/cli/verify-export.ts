import { stat } from 'node:fs/promises'
import { formatDsfinvkReport, verifyDsfinvkExport } from '../../../verify/dsfinvk/verify-file.ts'
import {
  formatTssExportReport,
  isTarArchive,
  verifyTssExportFile,
} from '../../../verify/tss-export/verify-file.ts'
import { progress } from '../../../cli/progress.ts'

/**
 * `fiscalbox verify FILE` for Germany's exports: a DSFinV-K export (a directory or TAR with index.xml
 * first), else a TSS export (any other TAR). Returns false when FILE is neither, so that the verify
 * command can try the other export formats.
 */
export async function verifyGermanExportCommand(file: string, options: { json?: boolean }): Promise<boolean> {
  const reading = progress('reading DSFinV-K export, files')
  let read = 0
  const dsfinvk = await verifyDsfinvkExport(file, (files) => {
    read = files
    reading.update(files)
  })
  if (dsfinvk) {
    reading.done(read)
    process.stdout.write(options.json ? `${JSON.stringify(dsfinvk)}\n` : formatDsfinvkReport(dsfinvk))
    process.exitCode = dsfinvk.ok ? 0 : 1
    return true
  }
  if ((await stat(file)).isDirectory() || !(await isTarArchive(file))) return false
  const shown = progress('verifying TSS export (2 passes), bytes', 2 * (await stat(file)).size)
  let last = 0
  const report = await verifyTssExportFile(file, (done) => {
    last = done
    shown.update(done)
  })
  shown.done(last)
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : formatTssExportReport(report))
  process.exitCode = report.problemCount === 0 ? 0 : 1
  return true
}
