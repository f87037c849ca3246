import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { cliEnv, runCli } from './cli-process.ts'

/** `fiscalbox it configure | show` as an operator runs them. */
const dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-cli-it-'))
const env = cliEnv({ DATABASE_URL: `sqlite:${join(dataDir, 'fiscalbox.db')}`, FISCALBOX_DATA_DIR: dataDir })
after(() => rmSync(dataDir, { recursive: true, force: true }))

describe('fiscalbox it', () => {
  it('configures the RT device of an IT cash box, refuses bad values and other countries', async () => {
    const created = await runCli(['cashbox', 'create', '--country', 'IT', '--json'], env)
    assert.equal(created.code, 0, created.stderr)
    const box = JSON.parse(created.stdout)
    const configure = ['it', 'configure', '--cashbox', box.cashboxId, '--device', 'epson-rt']
    const badMap = await runCli(
      [...configure, '--url', 'http://127.0.0.1:9100', '--departments', '22=1,10'],
      env,
    )
    assert.equal(badMap.code, 1)
    assert.match(badMap.stderr, /departments: "10" is not RATE=DEPARTMENT/)
    const badTimeout = await runCli(
      [...configure, '--url', 'http://127.0.0.1:9100', '--timeout-ms', '5'],
      env,
    )
    assert.equal(badTimeout.code, 1)
    assert.match(badTimeout.stderr, /timeoutMs: must be a whole number of milliseconds from 100 to 60000/)
    const shown = await runCli(['it', 'show', '--cashbox', box.cashboxId], env)
    assert.equal(shown.code, 1, 'nothing was stored')
    const good = await runCli(
      [
        ...configure,
        '--url',
        'http://127.0.0.1:9100',
        '--timeout-ms',
        '3000',
        '--departments',
        '22=1,10=2,4=4',
        '--failed-mode',
        '--json',
      ],
      env,
    )
    assert.equal(good.code, 0, good.stderr)
    const expected = {
      device: 'epson-rt',
      url: 'http://127.0.0.1:9100',
      timeoutMs: 3000,
      departments: { '22.00': 1, '10.00': 2, '4.00': 4 },
      failedMode: true,
    }
    assert.deepEqual(JSON.parse(good.stdout), expected)
    const show = await runCli(['it', 'show', '--cashbox', box.cashboxId, '--json'], env)
    assert.deepEqual(JSON.parse(show.stdout), expected)
    const german = JSON.parse((await runCli(['cashbox', 'create', '--country', 'DE', '--json'], env)).stdout)
    const wrong = await runCli(['it', 'show', '--cashbox', german.cashboxId], env)
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /is a DE cash box: create one with --country IT/)
  })
})
