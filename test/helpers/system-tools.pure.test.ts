import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { requireTool, runTool } from './system-tools.ts'

/** A PATH holding node and nothing else: a machine without the Debian tools. */
function bareBin(): string {
  const bin = mkdtempSync(join(tmpdir(), 'fiscalbox-bare-bin-'))
  symlinkSync(process.execPath, join(bin, 'node'))
  return bin
}

describe('system tools the suites drive', () => {
  test('a missing tool fails with its name and the command that installs it', (t) => {
    const path = process.env.PATH
    t.after(() => {
      process.env.PATH = path
    })
    process.env.PATH = bareBin()
    assert.throws(
      () => runTool('xmlsec1', ['--version']),
      /xmlsec1 is not installed.*apt-get install .* xmlsec1$/,
    )
    assert.throws(() => requireTool('pdftotext'), /pdftotext is not installed.*poppler-utils$/)
  })

  test('the test command names every missing tool in one install command, before any suite runs', () => {
    const bin = bareBin()
    const run = spawnSync(
      join(bin, 'node'),
      ['--import', 'tsx', join(import.meta.dirname, '../preflight.ts')],
      {
        env: { PATH: bin },
        encoding: 'utf8',
      },
    )
    assert.equal(run.status, 1)
    for (const tool of ['chromium', 'pdftotext', 'xmllint', 'xmlsec1', 'softhsm2-util', 'pkcs11-tool'])
      assert.match(run.stderr, new RegExp(`^  ${tool} \\(Debian package`, 'm'))
    assert.match(
      run.stderr,
      /sudo apt-get install -y --no-install-recommends chromium poppler-utils libxml2-utils xmlsec1 openssl softhsm2 opensc\n/,
    )
  })

  test('an installed tool runs', () => {
    const run = runTool('xmllint', ['--version'])
    assert.ok(run.ok, run.output)
    assert.match(run.output, /libxml/)
  })
})
