import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startSimulator } from '../../src/markets/es/simulator/app.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { bearer, createTransaction, getTransaction, newAccount, newLocation, sale } from './support.ts'

// VERI*FACTU through /v1/transactions against an AEAT that asks for its normal TiempoEsperaEnvio (60 s),
// refuses earlier submissions, and checks each record's link against the last record it holds (2001).
// The outbox's clock and the simulator's are the test's; the workers are not started, due jobs run by hand
// as the workers would. Records must reach the AEAT in chain order whatever the waits.
type Sim = Awaited<ReturnType<typeof startSimulator>>

const T0 = Date.parse('2026-03-09T14:30:00Z')
const WAIT_MS = 60_000

for (const engine of await engines()) {
  void describe(`Spain v1: VERI*FACTU records reach the AEAT in chain order (${engine})`, () => {
    let h: Harness
    let sim: Sim
    let now = T0
    before(async () => {
      sim = await startSimulator({
        aeat: { waitSeconds: WAIT_MS / 1000, enforceWait: true },
        clock: () => now,
      })
      h = await startHarness(engine, {
        // The ES market's records go out on the outbox's clock, the v1 clock below.
        es: { simulatorUrl: sim.url },
        v1: {
          engine: { backoffBaseMs: 1_000, backoffMaxMs: 60_000 },
          rateLimit: { perMinute: 1_000_000, burst: 1_000_000 },
          clock: () => now,
        },
      })
    })
    after(async () => {
      await h.close()
      await sim.close()
    })

    const aeat = async () => ((await (await fetch(`${sim.url}/_sim/state`)).json()) as any).aeat
    const drain = async () => {
      for (let i = 0; i < 20 && (await h.runtime.v1.jobs.runDueOnce()) > 0; i++);
    }

    test('sales and a cancellation made during the wait go out after it, in chain order', async () => {
      const { key } = await newAccount(h.app)
      const location = await newLocation(h.app, key, 'ES', {
        system: 'verifactu',
        nif: 'B12345674',
        name: 'Bar Ejemplo SL',
      })
      const chain: string[] = []
      const sell = async (at: number) => {
        now = at
        const created = await createTransaction(h.app, key, sale(location.id))
        assert.equal(created.statusCode, 201, created.body)
        const t = created.json()
        chain.push(`alta:${t.fiscal_id}`)
        return t
      }
      const first = await sell(T0)
      assert.equal(first.status, 'success', 'the first record goes inline')
      // Within the wait, at times that are not whole seconds after it: the inline attempts are held back.
      const second = await sell(T0 + 1_000)
      await sell(T0 + 2_000)
      for (const at of [T0 + 2_500, T0 + 3_500, T0 + 4_500]) await sell(at)
      now = T0 + 5_000
      const cancel = await h.app.inject({
        method: 'POST',
        url: `/v1/transactions/${second.id}/cancel`,
        headers: bearer(key),
        payload: { reason: 'wrong table' },
      })
      assert.equal(cancel.statusCode, 201, cancel.body)
      chain.push(`anulacion:${second.fiscal_id}`)
      assert.equal((await aeat()).received.length, 1, 'nothing more within the wait')

      // Across the end of the wait, then far past it.
      for (const at of [T0 + WAIT_MS, T0 + WAIT_MS + 500, T0 + WAIT_MS + 1_000, T0 + 3 * WAIT_MS]) {
        now = at
        await drain()
      }
      const state = await aeat()
      const sent = state.received.flatMap((r: any) => r.records)
      assert.deepEqual(sent, chain, 'every record once, in chain order')
      assert.deepEqual(
        state.received.flatMap((r: any) => r.codes),
        [],
        'no chain error (2001), no refusal',
      )
      assert.equal(state.received.length, 2, 'the records held by the wait go in one submission')
      assert.equal(state.duplicates, 0)
      assert.equal((await getTransaction(h.app, key, second.id)).status, 'cancelled')
      assert.equal((await getTransaction(h.app, key, cancel.json().id)).status, 'success')
    })

    test('in an outage, records behind a failed one wait for its next attempt: no attempt per new record', async () => {
      now = T0 + 10 * WAIT_MS
      const { key } = await newAccount(h.app)
      const location = await newLocation(h.app, key, 'ES', {
        system: 'verifactu',
        nif: 'B12345674',
        name: 'Bar Ejemplo SL',
      })
      const simState = async () => (await (await fetch(`${sim.url}/_sim/state`)).json()) as any
      const refused = async () => (await simState()).unavailable_answers as number
      const before = { refused: await refused(), received: (await aeat()).received.length }
      await fetch(`${sim.url}/_sim/outage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ seconds: 86_400 }),
      })
      const pending = async () =>
        (
          (await (
            await h.app.inject({
              method: 'GET',
              url: '/v1/retry-queue?status=pending&limit=100',
              headers: bearer(key),
            })
          ).json()) as { data: Array<{ last_error: string | null }> }
        ).data
      const ids: string[] = []
      const sell = async () => {
        const created = await createTransaction(h.app, key, sale(location.id), {
          'x-fiscalization-timeout': '0',
        })
        assert.equal(created.statusCode, 201, created.body)
        ids.push(created.json().id)
      }
      for (let i = 0; i < 5; i++) await sell()
      await drain()
      const firstAttempt = await refused()
      assert.equal(firstAttempt, before.refused + 1, 'the first attempt carries the five records at once')
      // The clock stands still: the first record waits in its backoff, so every later record waits for it.
      for (let i = 0; i < 30; i++) {
        await sell()
        await drain()
      }
      assert.equal(await refused(), firstAttempt, 'no submission while the first record waits')
      const waiting = await pending()
      assert.ok(
        waiting.some((job) => /waiting for record 1 of the chain/.test(job.last_error ?? '')),
        JSON.stringify(waiting.slice(0, 3)),
      )
      // The outage ends; at the first record's next attempt (its backoff is a second or two, the records
      // behind it look again only in a minute) it goes with the four claimed with it, and their success
      // makes the thirty behind them due at once: they meet the AEAT's wait, and go when it ends.
      await fetch(`${sim.url}/_sim/outage`, { method: 'DELETE' })
      now += 5_000
      await drain()
      assert.equal(await refused(), firstAttempt, 'nothing more was refused')
      const behind = (await pending()).map((job) => job.last_error ?? '')
      assert.equal(behind.length, 30)
      assert.ok(
        behind.every((error) => !error.startsWith('waiting for record')),
        `released, now held by the AEAT's wait: ${behind[0]}`,
      )
      now += WAIT_MS
      await drain()
      const received = (await aeat()).received.slice(before.received)
      assert.deepEqual(
        received.map((r: any) => r.records.length),
        [5, 30],
        'the first five, then the thirty behind them in one submission',
      )
      assert.deepEqual(
        received.flatMap((r: any) => r.codes),
        [],
        'in chain order',
      )
      for (const id of ids) assert.equal((await getTransaction(h.app, key, id)).status, 'success')
    })
  })
}
