import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/api/app.ts'
import type { CreatedCashbox } from '../../src/core/cashboxes.ts'
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

/** A server on the CLI's database, driven through HTTP between CLI runs (no workers, no simulator). */
async function withApp(use: (app: FastifyInstance) => Promise<void>): Promise<void> {
  const runtime = await openRuntime({
    DATABASE_URL: databaseUrl,
    FISCALBOX_DATA_DIR: dataDir,
    PG_POOL_SIZE: 2,
  })
  const app = await buildApp(runtime, { bodyLimit: 1024 * 1024, logger: false })
  try {
    await use(app)
  } finally {
    await app.close()
    await runtime.close()
  }
}

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
    await withApp(async (app) => {
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
    })
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

  it("es lroe-run makes a Bizkaia cash box's held records due now, and no other cash box's", async () => {
    const boxes: CreatedCashbox[] = []
    for (let i = 0; i < 2; i++) {
      const created = await runCli(['cashbox', 'create', '--country', 'ES', '--json'], env)
      assert.equal(created.code, 0, created.stderr)
      const box = JSON.parse(created.stdout)
      const args = ['es', 'configure', '--cashbox', box.cashboxId, '--system', 'ticketbai']
      const configured = await runCli(
        [...args, '--territory', 'bizkaia', '--nif', `B4800000${i}`, '--name', 'Taberna CLI SL'],
        env,
      )
      assert.equal(configured.code, 0, configured.stderr)
      boxes.push(box)
    }
    await withApp(async (app) => {
      const [a, b] = boxes.map((box) => new EsPos(app, box)) as [EsPos, EsPos]
      for (const pos of [a, b]) {
        await pos.start()
        await pos.signOk(esReceipt(ES_CASE.pos, [{ amount: '2.20', vat: 10, code: 0x1 }]))
        assert.equal((await pos.records())[0].held.window, 'lroe', 'held for the next LROE batch (02:00 UTC)')
      }
      const run = await runCli(['es', 'lroe-run', '--cashbox', a.box.cashboxId, '--json'], env)
      assert.equal(run.code, 0, run.stderr)
      assert.deepEqual(JSON.parse(run.stdout), { window: 'lroe', released: 1 })
      assert.equal((await a.records())[0].held, null, 'due now: the workers send it')
      assert.equal((await b.records())[0].held.window, 'lroe', 'the other cash box still waits')
      const unknown = await runCli(
        ['es', 'lroe-run', '--cashbox', '00000000-0000-4000-8000-000000000000'],
        env,
      )
      assert.equal(unknown.code, 1)
      assert.match(unknown.stderr, /no cash box/)
    })
  })
})
