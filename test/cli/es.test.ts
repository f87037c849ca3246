import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { buildApp } from '../../src/api/app.ts'
import { openRuntime } from '../../src/runtime.ts'
import { ES_CASE, EsPos, esReceipt } from '../markets/es/pos-support.ts'
import { cliEnv, runCli } from './cli-process.ts'

/**
 * The Spanish commands as an operator runs them: configure and show an ES cash box, then export its
 * VERI*FACTU records and check them with `fiscalbox verify`.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-cli-es-'))
const databaseUrl = `sqlite:${join(dataDir, 'fiscalbox.db')}`
const env = cliEnv({ DATABASE_URL: databaseUrl, FISCALBOX_DATA_DIR: dataDir })
after(() => rmSync(dataDir, { recursive: true, force: true }))

describe('fiscalbox es', () => {
  it('configures an ES cash box, refuses a bad NIF, and exports records that `fiscalbox verify` checks', async () => {
    const created = await runCli(['cashbox', 'create', '--country', 'ES', '--json'], env)
    assert.equal(created.code, 0, created.stderr)
    const box = JSON.parse(created.stdout)
    const configure = [
      'es',
      'configure',
      '--cashbox',
      box.cashboxId,
      '--system',
      'verifactu',
      '--name',
      'Bar CLI SL',
    ]
    const bad = await runCli([...configure, '--nif', 'B123'], env)
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /nif/)
    const good = await runCli([...configure, '--nif', 'B12345674', '--series', 'CLI-', '--json'], env)
    assert.equal(good.code, 0, good.stderr)
    assert.deepEqual(JSON.parse(good.stdout), {
      system: 'verifactu',
      nif: 'B12345674',
      name: 'Bar CLI SL',
      series: 'CLI-',
      rectifyingSeries: 'CLI-R',
      environment: 'test',
    })
    const shown = await runCli(['es', 'show', '--cashbox', box.cashboxId], env)
    assert.match(shown.stdout, /series:\s+CLI-/)

    // Receipts through HTTP on the same database (no simulator: the records wait in the outbox).
    const runtime = await openRuntime({
      DATABASE_URL: databaseUrl,
      FISCALBOX_DATA_DIR: dataDir,
      PG_POOL_SIZE: 2,
    })
    const app = await buildApp(runtime, { bodyLimit: 1024 * 1024, logger: false })
    try {
      const pos = new EsPos(app, box)
      await pos.start()
      const sale = esReceipt(ES_CASE.pos, [{ amount: '4.40', vat: 10, code: 0x1 }])
      await pos.signOk(sale)
      await pos.signOk(
        esReceipt(ES_CASE.voidPos, [], { cbPreviousReceiptReference: sale.cbReceiptReference }),
      )
      assert.deepEqual(
        (await pos.records()).map((r) => r.status),
        ['pending', 'pending'],
      )
    } finally {
      await app.close()
      await runtime.close()
    }
    const out = join(dataDir, 'verifactu.xml')
    const exported = await runCli(['export', 'verifactu', '--cashbox', box.cashboxId, '--out', out], env)
    assert.equal(exported.code, 0, exported.stderr)
    assert.match(exported.stdout, /wrote 2 records/)
    const verified = await runCli(['verify', out], env)
    assert.equal(verified.code, 0, `${verified.stdout}${verified.stderr}`)
    const both = await runCli(['export', 'verifactu', '--out', out], env)
    assert.equal(both.code, 1)
    assert.match(both.stderr, /--location or --cashbox/)
  })
})
