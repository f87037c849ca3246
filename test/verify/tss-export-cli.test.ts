import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { cliEnv, runCli } from '../cli/cli-process.ts'
import { createTss, day, writeExport } from './tss-export/fixtures.ts'

const VECTOR = '/work/shared/vectors/de/bsi-tse-simulator-export.tar'
const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-verify-tar-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const env = cliEnv({})
const verify = (file: string, ...extra: string[]) =>
  runCli(['verify', file, ...extra], env, { timeoutMs: 180_000 })

/** Extracts the BSI export, lets `change` edit the files, and packs them again with the system tar. */
function tamperedVector(label: string, change: (folder: string) => void): string {
  const folder = join(dir, label)
  execFileSync('mkdir', ['-p', folder])
  execFileSync('tar', ['-xf', VECTOR, '-C', folder])
  change(folder)
  const file = join(dir, `${label}.tar`)
  execFileSync('tar', ['--format=posix', '-cf', file, '-C', folder, ...readdirSync(folder)])
  return file
}

const FINISH = 'Unixt_1795289461_Sig-1002_Log-Tra_No-499_Finish_Client-POS-1.log'
const START = 'Unixt_1795289461_Sig-1001_Log-Tra_No-499_Start_Client-POS-1.log'

describe('fiscalbox verify <export.tar> on the BSI TSE simulator export (brainpoolP512r1, EC-Schnorr)', () => {
  test('accepts the export as the simulator wrote it', async () => {
    const result = await verify(VECTOR)
    assert.equal(result.code, 0, result.stdout + result.stderr)
    assert.match(
      result.stdout,
      /^OK: TSS export verified: 2004 log messages \(2000 transaction, 4 system, 0 audit\), 2004 signatures valid, signature counter 1\.\.2004, 1000 transactions \(0 still open\)/,
    )
    assert.match(
      result.stdout,
      /TSS 613E0EAFA452986B1B682D52AC03DA8AAE1770EE77B1E52223095AE27F448519: ecsdsa-plain-SHA3-512 on brainpoolP512r1/,
    )
    // leaf <- sub-CA <- root, all three in the archive
    assert.match(result.stdout, /613E0EAF\S+ <- issued by B99AD41A\S+ <- issued by 624EDCA1\S+/)
  })

  test('--json gives the same verdict for scripts', async () => {
    const result = await verify(VECTOR, '--json')
    assert.equal(result.code, 0)
    const report = JSON.parse(result.stdout)
    assert.equal(report.kind, 'tss-export')
    assert.equal(report.signaturesVerified, 2004)
    assert.deepEqual(report.signatureCounter, { first: 1, last: 2004 })
    assert.deepEqual(report.problems, [])
  })

  test('rejects a copy with one flipped byte in a signature, naming the file', async () => {
    const file = tamperedVector('flipped', (folder) => {
      const bytes = readFileSync(join(folder, FINISH))
      bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 0x01
      writeFileSync(join(folder, FINISH), bytes)
    })
    const result = await verify(file)
    assert.equal(result.code, 1)
    assert.match(result.stdout, /^FAILED: 1 problem\(s\)/)
    assert.ok(result.stdout.includes(`${FINISH}: the signature does not verify`), result.stdout)
  })

  test('rejects a copy without one log file: the counter gap names the file before it', async () => {
    const file = tamperedVector('removed', (folder) => unlinkSync(join(folder, START)))
    const result = await verify(file)
    assert.equal(result.code, 1)
    assert.ok(
      result.stdout.includes(
        `${FINISH}: signature counter jumps from 1000 to 1002: 1 log message(s) missing after Unixt_1795289461_Sig-1000_Log-Tra_No-498_Finish_Client-POS-1.log`,
      ),
      result.stdout,
    )
    assert.ok(result.stdout.includes(`${FINISH}: transaction 499 was never started`), result.stdout)
  })

  test('rejects a copy whose log message carries a changed signature counter, even when renamed to match', async () => {
    const renamed = 'Unixt_1795289461_Sig-1003_Log-Tra_No-499_Finish_Client-POS-1.log'
    const file = tamperedVector('counter', (folder) => {
      const bytes = readFileSync(join(folder, FINISH))
      // signatureCounter INTEGER 1002 = 02 02 03 ea, followed by logTime
      const at = bytes.indexOf(Buffer.from([0x02, 0x02, 0x03, 0xea, 0x02, 0x04]))
      assert.ok(at > 0)
      bytes[at + 3] = 0xeb
      unlinkSync(join(folder, FINISH))
      writeFileSync(join(folder, renamed), bytes)
    })
    const result = await verify(file)
    assert.equal(result.code, 1)
    assert.ok(result.stdout.includes(`${renamed}: the signature does not verify`), result.stdout)
    assert.ok(result.stdout.includes(`: signature counter 1003 also used by`), result.stdout)
    assert.ok(result.stdout.includes('signature counter jumps from 1001 to 1003'), result.stdout)
  })
})

describe('fiscalbox verify <export.tar> on exports written by fiscalbox (ECDSA P-256 and P-384)', () => {
  const files: Record<string, string> = {}
  before(async () => {
    for (const curve of ['P-256', 'P-384'] as const) {
      const tss = await createTss(curve)
      // a 70-character client serial makes the transaction log names longer than 99: PAX headers
      const client = curve === 'P-256' ? 'POS-1' : `KASSE ${'7'.repeat(64)}`
      files[curve] = join(dir, `fiscalbox-${curve}.tar`)
      await writeExport(files[curve], tss, day(200, client))
    }
  })

  for (const curve of ['P-256', 'P-384']) {
    test(`accepts a complete ${curve} export`, async () => {
      const result = await verify(files[curve] as string)
      assert.equal(result.code, 0, result.stdout + result.stderr)
      const logs = 5 + 200 * 2 + 50 + 1 + 1
      assert.match(
        result.stdout,
        new RegExp(
          `^OK: TSS export verified: ${logs} log messages \\(${logs - 6} transaction, 5 system, 1 audit\\), ${logs} signatures valid, signature counter 1\\.\\.${logs}, 201 transactions \\(1 still open\\)`,
        ),
      )
      assert.match(result.stdout, new RegExp(`ecdsa-plain-SHA${curve.slice(2)} on`))
    })
  }

  test('rejects a fiscalbox export with one byte of processData changed', async () => {
    const source = readFileSync(files['P-256'] as string)
    const at = source.indexOf(Buffer.from('Beleg^17.00_'))
    assert.ok(at > 0)
    source[at + 6] = '8'.charCodeAt(0)
    const file = join(dir, 'fiscalbox-changed.tar')
    writeFileSync(file, source)
    const result = await verify(file)
    assert.equal(result.code, 1)
    assert.match(result.stdout, /_Log-Tra_No-17_Finish_Client-POS-1\.log: the signature does not verify/)
  })

  test('a file that is neither a TAR nor a journal export is still refused', async () => {
    const file = join(dir, 'garbage.bin')
    writeFileSync(file, 'not an export\n')
    const result = await verify(file)
    assert.notEqual(result.code, 0)
  })
})
