import { stat } from 'node:fs/promises'
import {
  formatTssExportReport,
  isTarArchive,
  verifyTssExportFile,
} from '../../../verify/tss-export/verify-file.ts'
import { progress } from '../../../cli/progress.ts'

/**
 * `fiscalbox verify FILE` for TSS exports. Returns false when FILE is not a TAR archive, so that the
 * verify command can try the other export formats.
 */
export async function verifyTssExportCommand(file: string, options: { json?: boolean }): Promise<boolean> {
  if (!(await isTarArchive(file))) return false
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
