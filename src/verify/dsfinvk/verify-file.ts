import { createReadStream } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { readTar, TarFormatError } from '../tss-export/tar-reader.ts'
import { type DsfinvkReport, verifyDsfinvk } from './verifier.ts'

/**
 * A DSFinV-K export on disk: a directory holding index.xml, or a TAR archive with index.xml at its top.
 * The files are read whole: a DSFinV-K export covers a range of closings, not a TSS's whole history.
 */
export async function readDsfinvkExport(
  path: string,
  onFile?: (files: number) => void,
): Promise<Map<string, Buffer> | undefined> {
  if ((await stat(path)).isDirectory()) {
    const names = await readdir(path)
    if (!names.includes('index.xml')) return undefined
    const files = new Map<string, Buffer>()
    for (const name of names)
      if ((await stat(join(path, name))).isFile()) {
        files.set(name, await readFile(join(path, name)))
        onFile?.(files.size)
      }
    return files
  }
  const files = new Map<string, Buffer>()
  try {
    for await (const member of readTar(createReadStream(path))) {
      if (files.size === 0 && member.name !== 'index.xml') return undefined
      files.set(member.name, member.data)
      onFile?.(files.size)
    }
  } catch (error) {
    if (error instanceof TarFormatError) return undefined
    throw error
  }
  return files.size ? files : undefined
}

/** Verifies the export at path; undefined when it is no DSFinV-K export. */
export async function verifyDsfinvkExport(
  path: string,
  onFile?: (files: number) => void,
): Promise<DsfinvkReport | undefined> {
  const files = await readDsfinvkExport(path, onFile)
  return files && verifyDsfinvk(files)
}

/** The report for people: OK or FAILED with the rows per table, signatures and the problems. */
export function formatDsfinvkReport(report: DsfinvkReport): string {
  const rows = report.tables.reduce((sum, t) => sum + t.rows, 0)
  const summary =
    `${report.tables.length} tables, ${rows} rows, ${report.closings} closing(s), ${report.transactions} ` +
    `transactions, ${report.signaturesVerified} TSE signatures valid`
  const lines = [
    report.ok
      ? `OK: DSFinV-K export verified: ${summary}`
      : `FAILED: ${report.problems.length} problem(s) in the DSFinV-K export: ${summary}`,
    `  rows: ${report.tables.map((t) => `${t.file} ${t.rows}`).join(', ')}`,
    ...report.signaturesUnchecked.map((why) => `  signature not checked: ${why}`),
    ...report.problems.map((problem) => `  ${problem}`),
  ]
  return `${lines.join('\n')}\n`
}
