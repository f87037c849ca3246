import { stat } from 'node:fs/promises'
import { formatTssExportReport, isTarArchive, verifyTssExportFile } from '../verify/tss-export/verify-file.ts'
import { progress } from './progress.ts'

export const TSS_EXPORT_HELP = `
A TAR file is checked as a German TSS export (BSI TR-03151/TR-03153): every log message is parsed and
its signature verified against the certificate in the archive (ECDSA or EC-Schnorr on P-256, P-384 or
brainpool curves), the certificate chain, the signature counter (no gaps or repeats), transaction
numbers, times and file names. Problems are listed by file name; the exit code is 1 when there is any.`

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
