import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runTool } from '../../helpers/system-tools.ts'

/**
 * Validation of SAF-T (PT) files with Debian's xmllint (XSD 1.0) against the AT's schema in
 * test/fixtures/pt (see its README: the XSD 1.1 assertions are left out). Not a test file itself.
 */
const SCHEMA = new URL('../../fixtures/pt/SAFTPT1.04_01.xsd', import.meta.url)
let schema10: string | undefined

function schemaFile(): string {
  if (schema10) return schema10
  const xsd = readFileSync(SCHEMA, 'latin1')
    .replace(/<xs:assert\b[^>]*?\/>/gs, '')
    .replaceAll('<xs:all>', '<xs:sequence>')
    .replaceAll('</xs:all>', '</xs:sequence>')
  schema10 = join(mkdtempSync(join(tmpdir(), 'saft-pt-xsd-')), 'SAFTPT1.04_01-xsd10.xsd')
  writeFileSync(schema10, xsd, 'latin1')
  return schema10
}

export function xmllintSaft(file: string): { ok: boolean; output: string } {
  const { ok, output } = runTool('xmllint', ['--noout', '--nonet', '--schema', schemaFile(), file])
  return { ok, output }
}

/** A SAF-T (PT) file's text, decoded as Windows-1252 by Node's own decoder (not fiscalbox's encoder). */
export const readSaft = (file: string): string => new TextDecoder('windows-1252').decode(readFileSync(file))

/** A tampered copy, written back in the file's encoding: its characters are all Latin-1, where Windows-1252 agrees. */
export const writeSaft = (file: string, text: string): void => writeFileSync(file, text, 'latin1')
