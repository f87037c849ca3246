import { open, readFile } from 'node:fs/promises'
import {
  type CryptographicMaterialContainer,
  type Dep7Report,
  verifyDep7,
} from '../../../verify/dep7-verifier.ts'

/** A DEP7 export is a JSON object whose first member is "Belege-Gruppe": recognized by its first bytes. */
export async function isDep7File(file: string): Promise<boolean> {
  const handle = await open(file, 'r')
  try {
    // A directory is some other format's export (DSFinV-K's files); reading it would throw EISDIR.
    if ((await handle.stat()).isDirectory()) return false
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(256), 0, 256, 0)
    return /^\s*\{\s*"Belege-Gruppe"/.test(buffer.subarray(0, bytesRead).toString('utf8'))
  } finally {
    await handle.close()
  }
}

/** The DEP7 export in FILE, parsed. */
export async function readDep7(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'))
  } catch {
    throw new Error(`${file} looks like a DEP7 export but is not valid JSON`)
  }
}

/** What was checked, for a report without problems. */
export const dep7Summary = (report: Dep7Report) =>
  `OK: DEP7 with ${report.receipts} receipts in ${report.groups} group(s): signatures, chain, turnover counter (${report.turnoverCents} cents), dates and failed-device rules verified`

/** `fiscalbox verify` for DEP7 exports: prints the report and sets the exit code. */
export async function verifyDep7File(
  file: string,
  options: { keys?: string; json?: boolean },
): Promise<void> {
  const dep = await readDep7(file)
  let material: CryptographicMaterialContainer | undefined
  if (options.keys) {
    try {
      material = JSON.parse(await readFile(options.keys, 'utf8')) as CryptographicMaterialContainer
    } catch {
      throw new Error(
        `--keys ${options.keys} is not a cryptographicMaterialContainer.json (write one with \`fiscalbox export dep7 --keys\`)`,
      )
    }
  }
  const report = verifyDep7(dep, material)
  if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`)
  else if (report.problems.length === 0) process.stdout.write(`${dep7Summary(report)}\n`)
  else
    process.stdout.write(
      `FAILED: ${report.problems.length} problem(s) in ${report.receipts} DEP7 receipts\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`,
    )
  process.exitCode = report.problems.length === 0 ? 0 : 1
}
