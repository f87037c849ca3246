import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { bearer, createTransaction, newAccount, newLocation, sale } from '../api-v1/support.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { cliEnv, runCli } from './cli-process.ts'

// `fiscalbox export transactions` writes a location's chain; `fiscalbox verify` checks it from the file
// alone, and finds every kind of tampering.
for (const engine of await engines()) {
  void describe(`export transactions and verify (${engine})`, () => {
    let h: Harness
    let env: NodeJS.ProcessEnv
    let location: { id: string }
    let file: string
    before(async () => {
      h = await startHarness(engine)
      env = cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })
      const { key } = await newAccount(h.app)
      location = await newLocation(h.app, key)
      const other = await newLocation(h.app, key)
      const ids: string[] = []
      for (let i = 0; i < 6; i++) {
        ids.push(
          (
            await createTransaction(
              h.app,
              key,
              sale(i % 2 ? other.id : location.id, { total_amount: 8 + i, pretax_amount: 6.61 + i }),
            )
          ).json().id,
        )
      }
      const cancel = await h.app.inject({
        method: 'POST',
        url: `/v1/transactions/${ids[0]}/cancel`,
        headers: bearer(key),
        payload: {},
      })
      assert.equal(cancel.statusCode, 201)
      file = join(h.dataDir, 'records.jsonl')
    })
    after(async () => {
      await h.close()
    })

    void test('the export holds the location chain in order, and verify says OK', async () => {
      const exported = await runCli(
        ['export', 'transactions', '--location', location.id, '--environment', 'test', '--out', file],
        env,
      )
      assert.equal(exported.code, 0, exported.stderr)
      assert.match(exported.stdout, /wrote 4 records/)
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
      assert.equal(lines[0].format, 'fiscalbox-transactions-export-v1')
      assert.equal(lines[0].records, 4)
      assert.deepEqual(
        lines.slice(1).map((l) => l.sequence),
        [1, 2, 3, 4],
      )
      assert.deepEqual(
        lines.slice(1).map((l) => l.type),
        ['sale', 'sale', 'sale', 'cancellation'],
      )
      const verified = await runCli(['verify', file], env)
      assert.equal(verified.code, 0, verified.stdout + verified.stderr)
      assert.match(verified.stdout, /^OK: 4 receipts, chain verified, head [0-9a-f]{64}/)
    })

    void test('verify finds a changed amount, a dropped record and a forged signature', async () => {
      const original = readFileSync(file, 'utf8').trim().split('\n')
      const variants: Array<[string, (lines: string[]) => string[], RegExp]> = [
        [
          'amount',
          (l) =>
            l.map((x, i) => (i === 2 ? x.replace(/\|(\d+)\|EUR\|/, (_m, c) => `|${Number(c) + 1}|EUR|`) : x)),
          /hash is not SHA-256/,
        ],
        ['dropped', (l) => l.filter((_x, i) => i !== 2), /expected number 2/],
        [
          'signature',
          (l) =>
            l.map((x, i) =>
              i === 3 ? x.replace(/"signature":"(.)/, (_m, c) => `"signature":"${c === 'A' ? 'B' : 'A'}`) : x,
            ),
          /signature does not verify/,
        ],
      ]
      for (const [name, change, problem] of variants) {
        const tampered = join(h.dataDir, `tampered-${name}.jsonl`)
        writeFileSync(tampered, `${change(original).join('\n')}\n`)
        const result = await runCli(['verify', tampered], env)
        assert.equal(result.code, 1, `${name}: ${result.stdout}`)
        assert.match(result.stdout, problem, name)
      }
    })

    void test('help, and the errors say what to do', async () => {
      const help = await runCli(['export', 'transactions', '--help'], env)
      assert.equal(help.code, 0)
      for (const name of ['--location <id>', '--environment <env>', '--out <file>'])
        assert.ok(help.stdout.includes(name), name)
      const missing = await runCli(
        ['export', 'transactions', '--location', '00000000-0000-4000-8000-000000000009', '--out', file],
        env,
      )
      assert.equal(missing.code, 1)
      assert.match(missing.stderr, /no location .*GET \/v1\/locations/)
    })
  })
}
