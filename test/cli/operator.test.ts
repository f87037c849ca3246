import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { DEFAULT_ACCOUNT_ID } from '../../src/core/cashboxes.ts'
import { openRuntime } from '../../src/runtime.ts'
import { cliEnv, runBash, runCli } from './cli-process.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-cli-operator-'))
const DATABASE_URL = `sqlite:${join(dataDir, 'fiscalbox.db')}`
const env = cliEnv({ DATABASE_URL, FISCALBOX_DATA_DIR: dataDir })
after(() => rmSync(dataDir, { recursive: true, force: true }))

describe('fiscalbox operator create', () => {
  test('prints a generated password once, which then signs in to the local account', async () => {
    const result = await runCli(['operator', 'create', '--email', 'Ops@Example.com'], env)
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^operator: ops@example\.com$/m)
    assert.match(result.stdout, new RegExp(`^account: +${DEFAULT_ACCOUNT_ID}$`, 'm'))
    const password = /^password: (\S+)$/m.exec(result.stdout)?.[1]
    assert.ok(password && password.length >= 12, result.stdout)
    const runtime = await openRuntime({ DATABASE_URL, FISCALBOX_DATA_DIR: dataDir, PG_POOL_SIZE: 2 })
    try {
      const session = await runtime.operators.signIn('ops@example.com', password)
      assert.equal(session.accountId, DEFAULT_ACCOUNT_ID)
      await assert.rejects(
        runtime.operators.signIn('ops@example.com', `${password}x`),
        /e-mail or password is wrong/,
      )
    } finally {
      await runtime.close()
    }
  })

  test('an e-mail used already, a bad e-mail and a short password are refused with the field named', async () => {
    const again = await runCli(['operator', 'create', '--email', 'ops@example.com'], env)
    assert.equal(again.code, 1)
    assert.match(again.stderr, /operator with e-mail ops@example\.com exists already/)
    const bad = await runCli(['operator', 'create', '--email', 'not-an-address'], env)
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /email: must be an e-mail address/)
    const short = await runBash(
      `cd '${process.cwd()}' && printf 'short' | DATABASE_URL='${DATABASE_URL}' FISCALBOX_DATA_DIR='${dataDir}' node --import tsx src/cli/main.ts operator create --email b@example.com --password-stdin`,
    )
    assert.equal(short.code, 1, short.stdout)
    assert.match(short.stderr, /password: must be at least 12 characters/)
  })
})
