import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runTool } from '../../helpers/system-tools.ts'

/**
 * Validation with Debian's xmllint against the AEAT XSDs from the shared vectors. SuministroInformacion.xsd
 * imports xmldsig from the W3C site; a private copy of the folder points that import at the local file so
 * validation works offline (--nonet). Not a test file itself.
 */
export const VECTORS = '/work/shared/vectors/es'
let folder: string | undefined

function schemas(): string {
  if (folder) return folder
  folder = mkdtempSync(join(tmpdir(), 'aeat-xsd-'))
  cpSync(join(VECTORS, 'aeat-xsd'), folder, { recursive: true })
  const file = join(folder, 'SuministroInformacion.xsd')
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace(
      'schemaLocation="http://www.w3.org/TR/xmldsig-core/xmldsig-core-schema.xsd"',
      'schemaLocation="xmldsig-core-schema.xsd"',
    ),
  )
  return folder
}

export function xmllint(xml: string, schema: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'aeat-doc-'))
  const doc = join(dir, 'doc.xml')
  writeFileSync(doc, xml)
  const { ok, output } = runTool('xmllint', ['--noout', '--nonet', '--schema', join(schemas(), schema), doc])
  return { ok, output }
}
