import { decodeCp1252 } from '../../../core/cp1252.ts'
import { open, readFile } from 'node:fs/promises'
import { SAFT_NAMESPACE } from '../saft.ts'
import { type SaftReport, verifySaftPt } from '../saft-verifier.ts'

/** A SAF-T (PT) file names the schema's namespace on its root, within its first bytes. */
export async function isSaftPtFile(file: string): Promise<boolean> {
  const handle = await open(file, 'r')
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0)
    return buffer.subarray(0, bytesRead).toString('latin1').includes(`<AuditFile xmlns="${SAFT_NAMESPACE}"`)
  } finally {
    await handle.close()
  }
}

/** The file's text in the encoding its XML declaration names: Windows-1252 as the AT wants, or UTF-8. */
export function saftText(bytes: Buffer): string {
  const declaration = /^<\?xml[^>]*encoding="([^"]+)"/.exec(bytes.subarray(0, 100).toString('latin1'))
  const encoding = declaration?.[1]?.toLowerCase() ?? 'utf-8'
  if (encoding === 'windows-1252') return decodeCp1252(bytes)
  if (encoding === 'utf-8') return bytes.toString('utf8')
  throw new Error(
    `its XML declaration names encoding ${declaration?.[1]}: SAF-T (PT) is Windows-1252 or UTF-8`,
  )
}

/** What was checked, for a file without problems. */
export const saftSummary = (report: SaftReport) =>
  `OK: SAF-T (PT) with ${report.documents} documents in ${report.series} series: hashes, chains, numbering and totals verified${report.unchecked.length ? `; the first hash of ${report.unchecked.join(', ')} needs the document before the file` : ''}`

/** `fiscalbox verify` for SAF-T (PT) files: prints the report and sets the exit code. */
export async function verifySaftPtFile(
  file: string,
  options: { publicKey?: unknown; json?: boolean },
): Promise<void> {
  if (typeof options.publicKey !== 'string')
    throw new Error(
      `${file} is a SAF-T (PT) file: its hashes are checked with the cash box's public key, give it with --public-key <file> (\`fiscalbox export saft-pt --public-key\`)`,
    )
  let report: ReturnType<typeof verifySaftPt>
  try {
    report = verifySaftPt(saftText(await readFile(file)), await readFile(options.publicKey, 'utf8'))
  } catch (error) {
    report = {
      documents: 0,
      series: 0,
      unchecked: [],
      problems: [`the file cannot be read: ${(error as Error).message}`],
    }
  }
  if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`)
  else if (report.problems.length === 0) process.stdout.write(`${saftSummary(report)}\n`)
  else
    process.stdout.write(
      `FAILED: ${report.problems.length} problem(s) in ${report.documents} SAF-T (PT) documents\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`,
    )
  process.exitCode = report.problems.length === 0 ? 0 : 1
}
