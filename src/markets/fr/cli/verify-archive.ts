import { open } from 'node:fs/promises'
import { type ArchiveReport, verifyArchive } from '../verify/archive.ts'

/** An archive file's first line starts with its format: recognized by its first bytes. */
export async function isFrArchive(file: string): Promise<boolean> {
  const handle = await open(file, 'r')
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64), 0, 64, 0)
    return buffer.subarray(0, bytesRead).toString('utf8').startsWith('{"format":"fiscalbox-fr-archive/')
  } finally {
    await handle.close()
  }
}

/** What was checked, for an archive without problems. */
export const archiveSummary = (report: ArchiveReport) =>
  `OK: French archive ${report.period} with ${report.entries} entries (${Object.entries(report.chains)
    .map(([chain, count]) => `${chain} ${count}`)
    .join(', ')}): signatures, chains and the signed archive entry verified`

/** `fiscalbox verify` for French archives: prints the report and sets the exit code. */
export async function verifyArchiveFile(file: string, options: { json?: boolean }): Promise<void> {
  const report = await verifyArchive(file)
  if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`)
  else if (report.problems.length === 0) process.stdout.write(`${archiveSummary(report)}\n`)
  else
    process.stdout.write(
      `FAILED: ${report.problems.length} problem(s) in the French archive ${report.period}\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`,
    )
  process.exitCode = report.problems.length === 0 ? 0 : 1
}
