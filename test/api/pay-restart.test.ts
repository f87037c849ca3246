import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { buildApp } from '../../src/api/app.ts'
import { PaymentSimulator } from '../../src/payments/simulator.ts'
import { openRuntime } from '../../src/runtime.ts'
import { engines, freshPostgresDatabase } from '../helpers/engines.ts'
import { pay, payment } from './pay-support.ts'
import { Pos, RECEIPT_CASE, specialReceipt } from './support.ts'

/**
 * A payment survives a restart of fiscalbox: the terminal (the simulator, which outlives both server
 * processes here as a real terminal would) keeps the transaction, and the restarted server finds the
 * stored payment by its operation id, joins the terminal's transaction by its reference, and charges once.
 */
for (const engine of await engines()) {
  describe(`/v2/pay across a restart (${engine})`, () => {
    test('a payment running when the server stops is answered after the restart, charged once', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-pay-restart-'))
      const pgDb = engine === 'postgres' ? await freshPostgresDatabase() : undefined
      const config = {
        DATABASE_URL: pgDb ? pgDb.url : `sqlite:${join(dataDir, 'fiscalbox.db')}`,
        FISCALBOX_DATA_DIR: dataDir,
        PG_POOL_SIZE: 5,
      }
      const terminal = new PaymentSimulator()
      const release = terminal.hold()
      let released = false
      try {
        const operationId = randomUUID()
        const first = await openRuntime(config, { paymentSimulator: terminal })
        const firstApp = await buildApp(first, { bodyLimit: 1 << 20, logger: false })
        const box = await first.cashboxes.create('EU')
        const pos1 = new Pos(firstApp, box)
        assert.equal((await pos1.sign(specialReceipt(RECEIPT_CASE.start))).status, 200)
        const running = await pay(pos1, payment('42.00'), { operationId, lifetimeMs: 1 })
        assert.equal(running.status, 202, running.payload)
        assert.equal(running.json().State, 'in_progress')
        // The process goes away while the customer still holds the card.
        await firstApp.close()
        await first.close()

        const second = await openRuntime(config, { paymentSimulator: terminal })
        const secondApp = await buildApp(second, { bodyLimit: 1 << 20, logger: false })
        try {
          const pos2 = new Pos(secondApp, box)
          const polled = await pay(pos2, payment('42.00'), { operationId, lifetimeMs: 1 })
          assert.equal(polled.status, 202, polled.payload)
          assert.equal(polled.json().State, 'in_progress')
          const outcome = pay(pos2, payment('42.00'), { operationId, lifetimeMs: 60_000 })
          release()
          released = true
          const done = await outcome
          assert.equal(done.status, 200, done.payload)
          assert.equal(done.json().ftPayItems[0].Amount, 42)
          assert.equal((await pay(pos2, payment('42.00'), { operationId })).payload, done.payload)
          assert.equal(terminal.ledger().length, 1, 'the terminal charged once')
        } finally {
          await secondApp.close()
          await second.close()
        }
      } finally {
        if (!released) release()
        await pgDb?.drop()
        rmSync(dataDir, { recursive: true, force: true })
      }
    })
  })
}
