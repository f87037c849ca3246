import { createReadStream } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { readTar, TarFormatError } from './tar-reader.ts'
import { type TssExportReport, TssExportVerifier } from './verifier.ts'

/** Is the file a POSIX/GNU tar archive (magic "ustar" in its first header)? */
export async function isTarArchive(file: string): Promise<boolean> {
  const handle = await open(file, 'r')
  try {
    const header = Buffer.alloc(512)
    const { bytesRead } = await handle.read(header, 0, 512, 0)
    return bytesRead === 512 && header.subarray(257, 262).toString('latin1') === 'ustar'
  } finally {
    await handle.close()
  }
}

/**
 * Verifies a TSS export file in two streaming passes (certificates first, then everything).
 * onProgress gets bytes read over both passes, out of twice the file size.
 */
export async function verifyTssExportFile(
  file: string,
  onProgress?: (done: number, total: number) => void,
): Promise<TssExportReport> {
  const size = (await stat(file)).size
  const verifier = new TssExportVerifier()
  const pass = async (offset: number, visit: (name: string, data: Buffer) => void) => {
    const input = createReadStream(file, { highWaterMark: 256 * 1024 })
    let n = 0
    for await (const member of readTar(input)) {
      visit(member.name, member.data)
      if (++n % 500 === 0) onProgress?.(offset + input.bytesRead, 2 * size)
    }
  }
  try {
    await pass(0, (name, data) => {
      if (TssExportVerifier.isCertificateFile(name)) verifier.certificate(name, data)
    })
    await pass(size, (name, data) => verifier.member(name, data))
  } catch (error) {
    if (!(error instanceof TarFormatError)) throw error
    const report = verifier.finish()
    report.problems.unshift(`${file}: damaged TAR archive: ${error.message}`)
    report.problemCount++
    return report
  }
  onProgress?.(2 * size, 2 * size)
  return verifier.finish()
}

/** The report for people: OK with what was checked, or FAILED and the problems by file name. */
export function formatTssExportReport(report: TssExportReport): string {
  const lines: string[] = []
  const counter = report.signatureCounter
  const summary =
    `${report.logMessages} log messages (${report.transactionLogs} transaction, ${report.systemLogs} system, ` +
    `${report.auditLogs} audit), ${report.signaturesVerified} signatures valid, signature counter ` +
    `${counter ? `${counter.first}..${counter.last}` : '-'}, ${report.transactions} transactions ` +
    `(${report.openTransactions} still open)`
  if (report.problemCount === 0) lines.push(`OK: TSS export verified: ${summary}`)
  else lines.push(`FAILED: ${report.problemCount} problem(s) in the TSS export: ${summary}`)
  if (report.filter)
    lines.push(
      `  filtered export: ${report.filter} (every log checked against it; gaps it explains are not problems)`,
    )
  for (const tss of report.tss) {
    lines.push(`  TSS ${tss.serialNumber}: ${tss.algorithms.join(', ')}`)
    lines.push(`    certificates: ${tss.chain.join(' <- issued by ')}`)
  }
  for (const warning of report.warnings) lines.push(`  warning: ${warning}`)
  if (report.otherFiles.length) lines.push(`  not checked: ${report.otherFiles.join(', ')}`)
  for (const problem of report.problems) lines.push(`  ${problem}`)
  if (report.problemCount > report.problems.length)
    lines.push(`  ... and ${report.problemCount - report.problems.length} more`)
  return `${lines.join('\n')}\n`
}
