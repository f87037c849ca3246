import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sandboxSigningCredentials } from '../../src/markets/es/sandbox-signer.ts'
import { startSimulator } from '../../src/markets/es/simulator/app.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { bearer, createTransaction, getTransaction, newAccount, newLocation, sale } from './support.ts'

// Bizkaia's LROE batches go out once a day (02:00 UTC by default, FISCALBOX_ES_LROE_AT; docs/country-es.md), or when the
// account runs its held batch (POST /v1/batches/lroe/run). The outbox's clock is the test's: it is moved
// across the window instead of waited for. The workers are not started: due jobs run by hand (runDueOnce).
type Sim = Awaited<ReturnType<typeof startSimulator>>

const BIZKAIA = { system: 'ticketbai', territory: 'bizkaia', nif: 'B44444446', name: 'Taberna SL' }
const GIPUZKOA = { system: 'ticketbai', territory: 'gipuzkoa', nif: 'B55555557', name: 'Taberna SL' }
const DAY = '2026-03-09'
const at = (time: string) => Date.parse(time)

for (const engine of await engines()) {
  void describe(`Spain: Bizkaia's daily LROE window (${engine})`, () => {
    let h: Harness
    let sim: Sim
    let now = at(`${DAY}T15:00:00Z`)
    before(async () => {
      const credentials = await sandboxSigningCredentials()
      sim = await startSimulator()
      h = await startHarness(engine, {
        // lroeAt not given: the default, 02:00 UTC.
        es: { simulatorUrl: sim.url, testCredentials: credentials },
        v1: {
          engine: { backoffBaseMs: 20, backoffMaxMs: 100 },
          rateLimit: { perMinute: 1_000_000, burst: 1_000_000 },
          clock: () => now,
        },
      })
    })
    after(async () => {
      await h.close()
      await sim.close()
    })

    const uploads = async () => ((await (await fetch(`${sim.url}/_sim/state`)).json()) as any).ticketbai
    const queue = async (key: string) =>
      (
        await h.app.inject({ method: 'GET', url: '/v1/retry-queue?kind=es-pos-submit', headers: bearer(key) })
      ).json().data as any[]
    const runBatch = (key: string, window = 'lroe') =>
      h.app.inject({ method: 'POST', url: `/v1/batches/${window}/run`, headers: bearer(key) })

    test('sales and a cancellation wait for 02:00 UTC and go out as one batch per kind; Gipuzkoa goes at once', async () => {
      now = at(`${DAY}T15:00:00Z`)
      const { key } = await newAccount(h.app)
      const bizkaia = await newLocation(h.app, key, 'ES', BIZKAIA)
      const gipuzkoa = await newLocation(h.app, key, 'ES', GIPUZKOA)
      const before = await uploads()

      // The default X-Fiscalization-Timeout (5 s): no inline attempt for Bizkaia, the 201 is pending_lroe.
      const sales: any[] = []
      for (let i = 0; i < 3; i++) {
        const created = await createTransaction(h.app, key, sale(bizkaia.id))
        assert.equal(created.statusCode, 201, created.body)
        sales.push(created.json())
      }
      for (const t of sales) {
        assert.equal(t.status, 'pending_lroe')
        assert.match(t.fiscal_id, /^TBAI-B44444446-/)
        assert.equal(t.submitted_at, null)
      }
      const jobs = await queue(key)
      assert.equal(jobs.length, 3)
      for (const job of jobs) {
        assert.equal(job.batch_window, 'lroe')
        assert.equal(job.status, 'pending')
        assert.equal(job.next_attempt_at, `2026-03-10T02:00:00.000Z`)
      }
      // Gipuzkoa has no window: registered inline, success in the 201.
      const other = (await createTransaction(h.app, key, sale(gipuzkoa.id))).json()
      assert.equal(other.status, 'success', JSON.stringify(other))

      // A held invoice can be cancelled; its cancellation (AN0) waits for the same window.
      const cancel = await h.app.inject({
        method: 'POST',
        url: `/v1/transactions/${sales[0].id}/cancel`,
        headers: bearer(key),
        payload: { reason: 'wrong table' },
      })
      assert.equal(cancel.statusCode, 201, cancel.body)
      const cancellation = cancel.json()
      assert.equal(cancellation.status, 'pending')

      now = at('2026-03-10T01:59:59Z')
      assert.equal(await h.runtime.v1.jobs.runDueOnce(), 0, 'nothing is due before the window')
      assert.equal((await uploads()).uploads, before.uploads + 1, 'only the Gipuzkoa invoice went out')
      assert.equal((await getTransaction(h.app, key, sales[1].id)).status, 'pending_lroe')

      now = at('2026-03-10T02:00:00Z')
      assert.equal(await h.runtime.v1.jobs.runDueOnce(), 4, 'the whole held batch in one claim')
      // One A00 batch with the three invoices, then one AN0 batch with the cancellation.
      const after = await uploads()
      assert.equal(after.uploads, before.uploads + 3)
      for (const t of sales.slice(1)) {
        const done = await getTransaction(h.app, key, t.id)
        assert.equal(done.status, 'success', JSON.stringify(done))
        assert.ok(done.completed_at)
      }
      assert.equal((await getTransaction(h.app, key, cancellation.id)).status, 'success')
      assert.equal((await getTransaction(h.app, key, sales[0].id)).status, 'cancelled')
      const registered = after.invoices.find((i: any) => i.identifier === sales[0].fiscal_id)
      assert.equal(registered.cancelled, true)
      assert.equal(after.duplicates, before.duplicates)

      // The next sale waits for the next day's window.
      const late = (await createTransaction(h.app, key, sale(bizkaia.id))).json()
      assert.equal(late.status, 'pending_lroe')
      const open = (await queue(key)).filter((j) => j.status === 'pending')
      assert.equal(open.length, 1, JSON.stringify(open))
      assert.equal(open[0].next_attempt_at, '2026-03-11T02:00:00.000Z')
    })

    test("POST /v1/batches/lroe/run sends the account's held batch now, not other accounts'", async () => {
      now = at(`${DAY}T10:00:00Z`)
      const a = await newAccount(h.app)
      const b = await newAccount(h.app)
      const locationA = await newLocation(h.app, a.key, 'ES', BIZKAIA)
      const locationB = await newLocation(h.app, b.key, 'ES', BIZKAIA)
      const ta = [
        (await createTransaction(h.app, a.key, sale(locationA.id))).json(),
        (await createTransaction(h.app, a.key, sale(locationA.id))).json(),
      ]
      const tb = (await createTransaction(h.app, b.key, sale(locationB.id))).json()
      assert.equal(await h.runtime.v1.jobs.runDueOnce(), 0)

      const run = await runBatch(a.key)
      assert.equal(run.statusCode, 200, run.body)
      assert.deepEqual(run.json(), { window: 'lroe', environment: 'test', released: 2 })
      assert.equal(await h.runtime.v1.jobs.runDueOnce(), 2)
      for (const t of ta) assert.equal((await getTransaction(h.app, a.key, t.id)).status, 'success')
      // Account B's invoice still waits for the window.
      assert.equal((await getTransaction(h.app, b.key, tb.id)).status, 'pending_lroe')
      // Nothing left to release: 0, not an error.
      assert.equal((await runBatch(a.key)).json().released, 0)

      const unknown = await runBatch(a.key, 'daily')
      assert.equal(unknown.statusCode, 400, unknown.body)
      const anonymous = await h.app.inject({ method: 'POST', url: '/v1/batches/lroe/run' })
      assert.equal(anonymous.statusCode, 401)
      const openapi = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json()
      assert.ok(openapi.paths['/v1/batches/{window}/run']?.post, 'documented in OpenAPI')
    })
  })
}
