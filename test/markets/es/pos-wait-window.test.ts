import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startSimulator } from '../../../src/markets/es/simulator/app.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { ES_CASE, EsPos, esReceipt } from './pos-support.ts'

/**
 * A VERI*FACTU cash box on /v2/sign against an AEAT that asks for its normal TiempoEsperaEnvio (60 s) and
 * refuses a submission that comes earlier. The outbox's clock and the simulator's are the test's, moved
 * across the wait instead of waited for; the workers are not started: due jobs run by hand, as the workers
 * would after each commit. What the AEAT received is read from the simulator's own log.
 */
type Sim = Awaited<ReturnType<typeof startSimulator>>

const WAIT_S = 60

for (const engine of await engines()) {
  void describe(`ES /v2/sign VERI*FACTU backlog within TiempoEsperaEnvio (${engine})`, () => {
    let h: Harness
    let sim: Sim
    let now = Date.parse('2026-03-09T10:15:00Z')
    before(async () => {
      sim = await startSimulator({ aeat: { waitSeconds: WAIT_S, enforceWait: true }, clock: () => now })
      h = await startHarness(engine, {
        v1: { engine: { backoffBaseMs: 1_000, backoffMaxMs: 60_000 }, clock: () => now },
        es: { simulatorUrl: sim.url, timeoutMs: 5_000 },
      })
    })
    after(async () => {
      await h.close()
      await sim.close()
    })

    const aeat = async () => ((await (await fetch(`${sim.url}/_sim/state`)).json()) as any).aeat
    /** What the workers do when a job is committed or falls due: claim until nothing is due. */
    const drain = async () => {
      for (let i = 0; i < 20 && (await h.runtime.v1.jobs.runDueOnce()) > 0; i++);
    }

    test('a backlog goes out in one submission per wait window, with no look-up', async () => {
      const pos = new EsPos(h.app, await h.runtime.cashboxes.create('ES', 'es wait window'))
      await pos.configure({ system: 'verifactu', nif: 'B12345674', name: 'Bar Ejemplo SL', series: 'T26-' })
      await pos.start()

      const numbers: string[] = []
      const sell = async () => {
        const signed = await pos.signOk(esReceipt(ES_CASE.pos, [{ amount: '2.42', vat: 21 }]))
        numbers.push(String(signed.ftReceiptIdentification).split('#')[1] as string)
        await drain()
        now += 1_000
      }
      await sell()
      const first = await aeat()
      assert.equal(first.received.length, 1, 'the first record goes at once')
      assert.deepEqual(first.received[0].records, [`alta:${numbers[0]}`])

      // 15 more sales within the wait window: none may go before it is over.
      for (let i = 0; i < 15; i++) await sell()
      now = Date.parse('2026-03-09T10:15:00Z') + WAIT_S * 1000 - 1
      await drain()
      const during = await aeat()
      assert.equal(during.received.length, 1, 'nothing is sent within the wait window')

      now += 1
      await drain()
      const afterWindow = await aeat()
      assert.equal(afterWindow.received.length, 2, 'the backlog of 15 goes in one submission')
      assert.deepEqual(
        afterWindow.received[1].records,
        numbers.slice(1).map((n) => `alta:${n}`),
        'in chain order',
      )
      assert.deepEqual(
        afterWindow.received.flatMap((r: any) => r.codes),
        [],
        'no chain or wait error',
      )
      assert.equal(afterWindow.consultas, 0, 'no look-up: every answer came')
      assert.equal(afterWindow.duplicates, 0)

      const records = await pos.records()
      assert.equal(records.length, 16)
      assert.ok(
        records.every((r) => r.status === 'accepted'),
        JSON.stringify(records.map((r) => r.status)),
      )

      // The wait is the AEAT's, not a failure: no attempt was counted against the jobs.
      const jobs = (await pos.request('GET', '/es/v1/jobs?limit=100')).json().data as any[]
      assert.equal(jobs.length, 16)
      assert.ok(
        jobs.every((j) => j.status === 'completed' && j.attempts === 1),
        JSON.stringify(jobs.map((j) => [j.status, j.attempts])),
      )

      // The next window: one more sale waits for it, then goes alone.
      await sell()
      assert.equal((await aeat()).received.length, 2)
      now = Date.parse('2026-03-09T10:15:00Z') + 2 * WAIT_S * 1000
      await drain()
      const last = await aeat()
      assert.equal(last.received.length, 3)
      assert.deepEqual(last.received[2].records, [`alta:${numbers[16]}`])
      assert.equal(last.consultas, 0)
    })
  })
}
