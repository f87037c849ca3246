import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tarChunks } from '../export/tar-writer.ts'
import type { DsfinvkExport } from './exporter.ts'

/** The export as one POSIX ustar archive (index.xml first), for the API and `--out FILE.tar`. */
export const dsfinvkTar = (exported: DsfinvkExport) =>
  tarChunks(
    exported.files.map((f) => ({ name: f.name, data: f.data })),
    { mtime: Math.floor(Date.now() / 1000) },
  )

/** The export as files in a directory, as the auditors' software reads it. */
export async function writeDsfinvkDirectory(exported: DsfinvkExport, directory: string): Promise<void> {
  await mkdir(directory, { recursive: true })
  for (const file of exported.files) await writeFile(join(directory, file.name), file.data)
}
