import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { buildApp } from '../../../src/api/app.ts'
import { seededRandom } from '../../../src/markets/es/simulator/faults.ts'
import { openRuntime } from '../../../src/runtime.ts'
import { engines } from '../../helpers/engines.ts'
import { startHarness } from '../../helpers/harness.ts'
import { ContractPos } from '../contract.ts'
import { IT_CASE, itPos, itReceipt, OK, signature, startSim } from './pos-support.ts'

/**
 * An RT device whose answer is lost after it printed: the document is read back from the device (directIO
 * 1387) and answered, never printed a second time; when even that read fails, the POS gets
 * device_not_reachable and the receipt is completed from the device's last document once it answers, after
 * a retry or a restart of fiscalbox.
 */
const until = async (done: () => boolean) => {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 10))
}

/** A seed whose first fault draw is below `rate` and whose second is not: the first request only is hit. */
function seedHittingFirstRequestOnly(rate: number): number {
  for (let seed = 1; ; seed++) {
    const draw = seededRandom(seed)
    if (draw() < rate && draw() >= rate) return seed
  }
}

for (const engine of await engines()) {
  describe(`IT device faults on /v2/sign (${engine})`, () => {
    test('the answer is lost after the print: read back in the same call, one document', async () => {
      const h = await startHarness(engine)
      const sim = await startSim()
      try {
        const pos = await itPos(h.app, await h.runtime.cashboxes.create('IT'), sim)
        await pos.signOk(itReceipt(IT_CASE.pos, [{ amount: '3.00', vat: 22 }]))
        await sim.setFaults({ dropAfterPrintRate: 0.5, seed: seedHittingFirstRequestOnly(0.5) })
        const lost = await pos.signOk(itReceipt(IT_CASE.pos, [{ amount: '7.50', vat: 10 }]))
        assert.equal(lost.ftState, OK, JSON.stringify(lost))
        assert.match(lost.ftReceiptIdentification, /#0001-0002$/)
        assert.equal(signature(lost, 0x12n)?.Data, '0002')
        assert.deepEqual(
          sim.documents().map((d) => d.amount),
          [300, 750],
          'printed once',
        )
      } finally {
        await h.close()
        await sim.close()
      }
    })

    test("the device's firmware does not answer (LAN_TIME_OUT): read back, nothing printed, failure state", async () => {
      const h = await startHarness(engine)
      const sim = await startSim()
      try {
        const pos = await itPos(h.app, await h.runtime.cashboxes.create('IT'), sim, { timeoutMs: 2_000 })
        await sim.setFaults({ hangRate: 0.5, seed: seedHittingFirstRequestOnly(0.5) })
        const hung = await pos.signOk(itReceipt(IT_CASE.pos, [{ amount: '2.00', vat: 22 }]))
        assert.equal(hung.ftState, '0x49542000EEEEEEEE', JSON.stringify(hung))
        assert.match(hung.ftSignatures[0].Data, /printed nothing/)
        assert.equal(sim.documents().length, 0)
        await sim.setFaults({ hangRate: 0 })
        const next = await pos.signOk(itReceipt(IT_CASE.pos, [{ amount: '2.00', vat: 22 }]))
        assert.match(next.ftReceiptIdentification, /#0001-0001$/)
      } finally {
        await h.close()
        await sim.close()
      }
    })

    test('no answer and no read-back: device_not_reachable; the retry completes it from the last document', async () => {
      const h = await startHarness(engine)
      // The device takes far longer than the cash box waits, for the document and for the read-back behind it.
      const sim = await startSim({ latencyMs: 10_000 })
      try {
        const pos = await itPos(h.app, await h.runtime.cashboxes.create('IT'), sim, { timeoutMs: 1_000 })
        const operationId = randomUUID()
        const body = itReceipt(IT_CASE.pos, [{ amount: '12.00', vat: 22 }])
        const lost = await pos.sign(body, operationId)
        assert.equal(lost.status, 502, lost.payload)
        const problem = lost.json()
        assert.equal(problem.error, 'device_not_reachable')
        assert.match(problem.message, /RT device is not responding/)
        assert.equal(problem.details.deviceId, sim.url)
        await until(() => sim.documents().length === 1)
        // A status read (fast, unlike a document on this device) of the same cash box settles the lost sale first.
        const other = await pos.sign(itReceipt(IT_CASE.zero, []))
        assert.equal(other.status, 200, `the next receipt first settles the one before it: ${other.payload}`)
        const replayed = await pos.sign(body, operationId)
        assert.equal(replayed.status, 200, replayed.payload)
        assert.match(replayed.json().ftReceiptIdentification, /^ft2#0001-0001$/)
        assert.equal(other.json().ftReceiptIdentification, 'ft3#')
        assert.deepEqual(
          sim.documents().map((d) => d.amount),
          [1200],
          'the lost document was not printed again',
        )
      } finally {
        await h.close()
        await sim.close()
      }
    })
  })
}

describe('IT device faults across a restart of fiscalbox (sqlite)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-it-restart-'))
  after(() => rmSync(dataDir, { recursive: true, force: true }))
  const config = {
    DATABASE_URL: `sqlite:${join(dataDir, 'fiscalbox.db')}`,
    FISCALBOX_DATA_DIR: dataDir,
    PG_POOL_SIZE: 2,
  }

  test('printed, answer and read-back lost, then fiscalbox restarts: recovered at start-up, one document', async () => {
    const sim = await startSim()
    try {
      let runtime = await openRuntime(config)
      let app = await buildApp(runtime, { bodyLimit: 1 << 20, logger: false })
      const box = await runtime.cashboxes.create('IT')
      const pos = await itPos(app, box, sim)
      // Every connection is cut after the device did its work: the document, then the read-back of it.
      await sim.setFaults({ dropAfterPrintRate: 1 })
      const operationId = randomUUID()
      const body = itReceipt(IT_CASE.pos, [{ amount: '20.00', vat: 22 }])
      assert.equal((await pos.sign(body, operationId)).status, 502)
      assert.equal(sim.documents().length, 1)
      await app.close()
      await runtime.close()

      await sim.setFaults({ dropAfterPrintRate: 0 })
      runtime = await openRuntime(config)
      app = await buildApp(runtime, { bodyLimit: 1 << 20, logger: false })
      assert.equal(await runtime.reservationsRecovered, 1, 'recovered at start-up')
      const again = new ContractPos(app, box)
      const replayed = await again.sign(body, operationId)
      assert.equal(replayed.status, 200, replayed.payload)
      assert.match(replayed.json().ftReceiptIdentification, /^ft2#0001-0001$/)
      assert.equal(sim.documents().length, 1, 'printed once')
      await app.close()
      await runtime.close()
    } finally {
      await sim.close()
    }
  })
})
