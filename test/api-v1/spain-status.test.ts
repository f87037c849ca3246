import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sandboxSigningCredentials } from '../../src/markets/es/sandbox-signer.ts'
import { startSimulator } from '../../src/markets/es/simulator/app.ts'
import type { SigningCredentials } from '../../src/markets/es/ticketbai/xades.ts'
import { spanishFiscalizers } from '../../src/markets/es/v1-fiscalizer.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import {
  bearer,
  createTransaction,
  eventually,
  getTransaction,
  newAccount,
  newLocation,
  sale,
} from './support.ts'

// The statuses a Spanish transaction goes through when the authority answers later: Bizkaia's
// `pending_lroe` (seed 002), and a cancellation that lands while an attempt is still waiting for the
// authority. The workers are not started: each attempt is run by hand (runDueOnce), so the test decides
// what happens in between.
type Sim = Awaited<ReturnType<typeof startSimulator>>

const TICKETBAI = (territory: string, nif: string) => ({
  system: 'ticketbai',
  territory,
  nif,
  name: 'Taberna Ejemplo SL',
})
const NOW = { 'x-fiscalization-timeout': '0' }

for (const engine of await engines()) {
  void describe(`Spain: pending_lroe and cancellations during an attempt (${engine})`, () => {
    let h: Harness
    let sim: Sim
    let credentials: SigningCredentials
    before(async () => {
      credentials = await sandboxSigningCredentials()
      sim = await startSimulator()
      h = await startHarness(engine, {
        v1: {
          fiscalizers: spanishFiscalizers({
            simulatorUrl: sim.url,
            timeoutMs: 10_000,
            signingCredentials: () => credentials,
          }),
          engine: { backoffBaseMs: 20, backoffMaxMs: 100, leaseMs: 60_000 },
          defaultInlineTimeoutMs: 5_000,
          rateLimit: { perMinute: 1_000_000, burst: 1_000_000 },
        },
      })
    })
    after(async () => {
      await h.close()
      await sim.close()
    })

    /** Runs due jobs until `id` has a status other than the ones given. */
    const runUntilNot = async (key: string, id: string, statuses: string[]) =>
      eventually(
        async () => {
          await h.runtime.v1.jobs.runDueOnce()
          return getTransaction(h.app, key, id)
        },
        (t) => !statuses.includes(t.status),
        `transaction ${id} to leave ${statuses.join('/')}`,
      )

    test('Bizkaia: pending_lroe from the seal until the LROE batch is accepted, then success', async () => {
      const { key } = await newAccount(h.app)
      const bizkaia = await newLocation(h.app, key, 'ES', TICKETBAI('bizkaia', 'B44444446'))
      const gipuzkoa = await newLocation(h.app, key, 'ES', TICKETBAI('gipuzkoa', 'B55555557'))

      const created = await createTransaction(h.app, key, sale(bizkaia.id), NOW)
      assert.equal(created.statusCode, 201, created.body)
      const t = created.json()
      assert.equal(t.status, 'pending_lroe')
      assert.match(t.fiscal_id, /^TBAI-B44444446-/)
      assert.equal(t.completed_at, null)
      // Stored and listed as such while the batch has not gone out.
      assert.equal((await getTransaction(h.app, key, t.id)).status, 'pending_lroe')
      const listed = await h.app.inject({
        method: 'GET',
        url: '/v1/transactions?status=pending_lroe',
        headers: bearer(key),
      })
      assert.deepEqual(
        listed.json().data.map((x: any) => x.id),
        [t.id],
      )
      // Gipuzkoa takes invoices one by one: no LROE, plain pending.
      const other = (await createTransaction(h.app, key, sale(gipuzkoa.id), NOW)).json()
      assert.equal(other.status, 'pending')

      // A refused attempt (outage) keeps pending_lroe and shows the error.
      sim.faults.reconfigure({ outages: [{ from: Date.now(), to: Date.now() + 3_600_000 }] })
      await h.runtime.v1.jobs.runDueOnce()
      const waiting = await getTransaction(h.app, key, t.id)
      assert.equal(waiting.status, 'pending_lroe')
      assert.ok(waiting.error_message, 'the refused attempt is shown')
      assert.equal((await getTransaction(h.app, key, other.id)).status, 'failed')
      sim.faults.reconfigure({ outages: [] })

      const done = await runUntilNot(key, t.id, ['pending_lroe'])
      assert.equal(done.status, 'success', JSON.stringify(done))
      assert.equal(done.fiscal_id, t.fiscal_id)
      assert.ok(done.completed_at)
      assert.ok(done.submitted_at)
      assert.equal(done.response_payload.authority.status, 'accepted')
      const state = (await (await fetch(`${sim.url}/_sim/state`)).json()) as any
      assert.ok(state.ticketbai.invoices.some((i: any) => i.identifier === t.fiscal_id))
      assert.equal((await runUntilNot(key, other.id, ['pending', 'failed', 'processing'])).status, 'success')

      // With time to wait, the batch is answered inline and the 201 already says success.
      const inline = await createTransaction(h.app, key, sale(bizkaia.id))
      assert.equal(inline.json().status, 'success', inline.body)
    })

    test('a cancellation that lands while the attempt waits for the authority stays cancelled', async () => {
      const { key } = await newAccount(h.app)
      const bizkaia = await newLocation(h.app, key, 'ES', TICKETBAI('bizkaia', 'B44444446'))
      const t = (await createTransaction(h.app, key, sale(bizkaia.id), NOW)).json()
      assert.equal(t.status, 'pending_lroe')

      // The simulator registers the batch at once but holds its answer back.
      sim.faults.reconfigure({ slowMs: 1_500 })
      const attempt = h.runtime.v1.jobs.runDueOnce()
      await eventually(
        async () => ((await (await fetch(`${sim.url}/_sim/state`)).json()) as any).ticketbai.invoices,
        (invoices: any[]) => invoices.some((i) => i.identifier === t.fiscal_id),
        'the simulator to register the invoice',
      )
      // The answer is still on its way: the transaction is cancellable, and is cancelled.
      assert.equal((await getTransaction(h.app, key, t.id)).status, 'pending_lroe')
      const cancel = await h.app.inject({
        method: 'POST',
        url: `/v1/transactions/${t.id}/cancel`,
        headers: { ...bearer(key), ...NOW },
        payload: { reason: 'wrong table' },
      })
      assert.equal(cancel.statusCode, 201, cancel.body)
      const cancellation = cancel.json()
      assert.equal((await getTransaction(h.app, key, t.id)).status, 'cancelled')

      assert.equal(await attempt, 1)
      sim.faults.reconfigure({ slowMs: 0 })
      // The late "accepted" does not bring `success` back; the authority's answer is kept all the same.
      const original = await getTransaction(h.app, key, t.id)
      assert.equal(original.status, 'cancelled', JSON.stringify(original))
      assert.match(original.response_payload.authority.status, /^accepted/)
      assert.equal(original.completed_at, null)
      const jobs = await h.app.inject({ method: 'GET', url: '/v1/retry-queue/stats', headers: bearer(key) })
      assert.equal(jobs.json().by_kind.fiscalize.completed, 1, jobs.body)

      // The cancellation goes its own way and ends success; the original is still cancelled.
      const done = await runUntilNot(key, cancellation.id, ['pending', 'processing', 'failed'])
      assert.equal(done.status, 'success', JSON.stringify(done))
      assert.equal((await getTransaction(h.app, key, t.id)).status, 'cancelled')
      const state = (await (await fetch(`${sim.url}/_sim/state`)).json()) as any
      assert.equal(state.ticketbai.invoices.find((i: any) => i.identifier === t.fiscal_id).cancelled, true)
    })
  })
}
