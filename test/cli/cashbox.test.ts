import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { engines, freshPostgresDatabase } from '../helpers/engines.ts'
import { cliEnv, runCli, UUID } from './cli-process.ts'

for (const engine of await engines()) {
  describe(`fiscalbox cashbox and migrate (${engine})`, () => {
    let dataDir: string
    let env: NodeJS.ProcessEnv
    let dropDatabase: (() => Promise<void>) | undefined
    let created: { cashboxId: string; accessToken: string; queueId: string; country: string }

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), `fiscalbox-cli-cashbox-${engine}-`))
      let url = `sqlite:${join(dataDir, 'fiscalbox.db')}`
      if (engine === 'postgres') {
        const database = await freshPostgresDatabase()
        url = database.url
        dropDatabase = database.drop
      }
      env = cliEnv({ DATABASE_URL: url, FISCALBOX_DATA_DIR: dataDir })
    })

    after(async () => {
      await dropDatabase?.()
      rmSync(dataDir, { recursive: true, force: true })
    })

    it('migrate creates the schema and can run again', async () => {
      for (let run = 1; run <= 2; run++) {
        const result = await runCli(['migrate'], env)
        assert.equal(result.code, 0, `migrate run ${run}: ${result.stderr}`)
        assert.equal(result.stdout, 'database is up to date\n')
      }
      // The first start generates the master key file, readable by its owner only.
      assert.equal(statSync(join(dataDir, 'master.key')).mode & 0o777, 0o600)
    })

    it('cashbox create --country EU --json prints the ids and the access token', async () => {
      const result = await runCli(
        ['cashbox', 'create', '--country', 'EU', '--label', 'till 1', '--json'],
        env,
      )
      assert.equal(result.code, 0, result.stderr)
      created = JSON.parse(result.stdout)
      assert.match(created.cashboxId, UUID)
      assert.match(created.queueId, UUID)
      assert.notEqual(created.cashboxId, created.queueId)
      assert.equal(typeof created.accessToken, 'string')
      assert.ok(created.accessToken.length >= 32, 'the access token should carry at least 32 characters')
      assert.equal(created.country, 'EU')
    })

    it('cashbox list --json shows the cash box without any token', async () => {
      const result = await runCli(['cashbox', 'list', '--json'], env)
      assert.equal(result.code, 0, result.stderr)
      const rows = JSON.parse(result.stdout) as Array<Record<string, unknown>>
      assert.equal(rows.length, 1)
      assert.deepEqual(Object.keys(rows[0] ?? {}).sort(), [
        'cashboxId',
        'country',
        'createdAt',
        'label',
        'queueId',
      ])
      assert.equal(rows[0]?.cashboxId, created.cashboxId)
      assert.equal(rows[0]?.queueId, created.queueId)
      assert.equal(rows[0]?.country, 'EU')
      assert.equal(rows[0]?.label, 'till 1')
      assert.doesNotMatch(result.stdout, /token|hash/i)
      assert.ok(!result.stdout.includes(created.accessToken), 'the access token must never be listed')
    })

    // Usage errors and output formats do not depend on the engine: SQLite only, to keep the suite short.
    if (engine === 'sqlite') {
      it('cashbox create without --json shows the token once, with a note to store it', async () => {
        const result = await runCli(['cashbox', 'create', '--country', 'at'], env)
        assert.equal(result.code, 0, result.stderr)
        assert.match(result.stdout, /^cashboxId: {3}[0-9a-f-]{36}$/m)
        assert.match(result.stdout, /^accessToken: \S{32,}$/m)
        assert.match(result.stdout, /^country: {5}AT$/m, 'the country code is upper-cased')
        assert.match(result.stdout, /shown only now/)
      })

      it('a bad country fails with a clear message, a non-zero exit and nothing written', async () => {
        const result = await runCli(['cashbox', 'create', '--country', 'germany', '--json'], env)
        assert.notEqual(result.code, 0)
        assert.equal(result.stdout, '')
        assert.match(result.stderr, /^fiscalbox: country: .*two .*letters/m, result.stderr)
        assert.doesNotMatch(result.stderr, /\n\s+at /, 'a usage error should not print a stack trace')
      })

      it('a wrong FISCALBOX_MASTER_KEY stops cashbox create with a message about the master key', async () => {
        const wrong = { ...env, FISCALBOX_MASTER_KEY: 'ab'.repeat(32) }
        const result = await runCli(['cashbox', 'create', '--country', 'EU', '--json'], wrong)
        assert.notEqual(result.code, 0)
        assert.equal(result.stdout, '')
        assert.match(result.stderr, /master key/i)
      })

      it('export journal of an unknown cash box and verify of a missing file fail clearly', async () => {
        const out = join(dataDir, 'unknown.jsonl')
        const unknown = randomUUID()
        const [exported, verified] = await Promise.all([
          runCli(['export', 'journal', '--cashbox', unknown, '--out', out], env),
          runCli(['verify', join(dataDir, 'missing.jsonl')], env),
        ])
        assert.notEqual(exported.code, 0)
        assert.match(exported.stderr, new RegExp(`no cash box ${unknown}`))
        assert.ok(!existsSync(out), 'no export file for a cash box that does not exist')
        assert.notEqual(verified.code, 0)
        assert.match(verified.stderr, /^fiscalbox: .*missing\.jsonl/m)
      })
    }

    it('migrate on a database with data keeps it; failed creates wrote nothing', async () => {
      const result = await runCli(['migrate'], env)
      assert.equal(result.code, 0, result.stderr)
      const list = await runCli(['cashbox', 'list', '--json'], env)
      const rows = JSON.parse(list.stdout) as Array<{ cashboxId: string; country: string }>
      assert.deepEqual(rows.map((c) => c.country).sort(), engine === 'sqlite' ? ['AT', 'EU'] : ['EU'])
      assert.ok(rows.some((c) => c.cashboxId === created.cashboxId))
    })
  })
}
