import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sandboxSigningCredentials } from '../../src/markets/es/sandbox-signer.ts'
import { startSimulator } from '../../src/markets/es/simulator/app.ts'
import type { SigningCredentials } from '../../src/markets/es/ticketbai/xades.ts'
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

// The statuses a Spanish transaction goes through when the authority answers later (the table in
// docs/transactions-api-v1.md): a sale is `pending_submission` (VERI*FACTU, Araba, Gipuzkoa) or
// `pending_lroe` (Bizkaia) from its seal until the authority answers, then `success` or `failed_permanent`;
// a cancellation is `pending` / `processing` / `failed` until then. Also a cancellation that lands while an
// attempt is still waiting for the authority, and Bizkaia's daily LROE window on a clock the test moves.
// The workers are not started: each attempt is run by hand (runDueOnce), so the test decides what happens
// in between.
type Sim = Awaited<ReturnType<typeof startSimulator>>

const TICKETBAI = (territory: string, nif: string) => ({
  system: 'ticketbai',
  territory,
  nif,
  name: 'Taberna Ejemplo SL',
})
const VERIFACTU = (nif: string) => ({ system: 'verifactu', nif, name: 'Bar Ejemplo SL' })
const NOW = { 'x-fiscalization-timeout': '0' }
const MAX_ATTEMPTS = 4
const FOREVER = () => ({ outages: [{ from: Date.now(), to: Date.now() + 3_600_000 }] })

const simState = async (sim: Sim) => (await (await fetch(`${sim.url}/_sim/state`)).json()) as any
const cancelOf = (h: Harness, key: string, id: string) =>
  h.app.inject({
    method: 'POST',
    url: `/v1/transactions/${id}/cancel`,
    headers: { ...bearer(key), ...NOW },
    payload: { reason: 'wrong table' },
  })

for (const engine of await engines()) {
  void describe(`Spain: pending_submission, pending_lroe and cancellations during an attempt (${engine})`, () => {
    let h: Harness
    let sim: Sim
    let credentials: SigningCredentials
    /** The outbox's time stands still while set: what is due is then up to the test. */
    let frozen: number | undefined
    before(async () => {
      credentials = await sandboxSigningCredentials()
      sim = await startSimulator()
      h = await startHarness(engine, {
        es: { simulatorUrl: sim.url, timeoutMs: 10_000, testCredentials: credentials, lroeAt: 'immediate' },
        v1: {
          engine: { backoffBaseMs: 20, backoffMaxMs: 100, leaseMs: 60_000, maxAttempts: MAX_ATTEMPTS },
          defaultInlineTimeoutMs: 5_000,
          rateLimit: { perMinute: 1_000_000, burst: 1_000_000 },
          clock: () => frozen ?? Date.now(),
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
      // Gipuzkoa takes invoices one by one: no LROE, the signed invoice waits for its submission.
      const other = (await createTransaction(h.app, key, sale(gipuzkoa.id), NOW)).json()
      assert.equal(other.status, 'pending_submission')
      assert.match(other.fiscal_id, /^TBAI-B55555557-/)

      // A refused attempt (outage) keeps pending_lroe and shows the error.
      sim.faults.reconfigure({ outages: [{ from: Date.now(), to: Date.now() + 3_600_000 }] })
      await h.runtime.v1.jobs.runDueOnce()
      const waiting = await getTransaction(h.app, key, t.id)
      assert.equal(waiting.status, 'pending_lroe')
      assert.ok(waiting.error_message, 'the refused attempt is shown')
      const otherWaiting = await getTransaction(h.app, key, other.id)
      assert.equal(otherWaiting.status, 'pending_submission')
      assert.ok(otherWaiting.error_message)
      sim.faults.reconfigure({ outages: [] })

      const done = await runUntilNot(key, t.id, ['pending_lroe'])
      assert.equal(done.status, 'success', JSON.stringify(done))
      assert.equal(done.fiscal_id, t.fiscal_id)
      assert.ok(done.completed_at)
      assert.ok(done.submitted_at)
      assert.equal(done.response_payload.authority.status, 'accepted')
      const state = (await (await fetch(`${sim.url}/_sim/state`)).json()) as any
      assert.ok(state.ticketbai.invoices.some((i: any) => i.identifier === t.fiscal_id))
      assert.equal((await runUntilNot(key, other.id, ['pending_submission'])).status, 'success')

      // With time to wait, the batch is answered inline and the 201 already says success.
      const inline = await createTransaction(h.app, key, sale(bizkaia.id))
      assert.equal(inline.json().status, 'success', inline.body)
    })

    test('VERI*FACTU: a slow AEAT answer leaves the sealed sale pending_submission, then success', async () => {
      const { key } = await newAccount(h.app)
      const location = await newLocation(h.app, key, 'ES', VERIFACTU('B12345674'))
      // The AEAT takes 1.5 s; the POS gives the inline attempt 0.2 s.
      sim.faults.reconfigure({ slowMs: 1_500 })
      try {
        const created = await createTransaction(h.app, key, sale(location.id), {
          'x-fiscalization-timeout': '0.2',
        })
        assert.equal(created.statusCode, 201, created.body)
        const t = created.json()
        // Sealed inline: number, Huella and QR are final and printable; the AEAT has not answered yet.
        assert.equal(t.status, 'pending_submission', created.body)
        assert.match(t.fiscal_id, /^FB[0-9A-F]{8}T-000001$/)
        assert.match(t.response_payload.record.huella, /^[0-9A-F]{64}$/)
        assert.match(t.response_payload.record.qr_url, /ValidarQR\?nif=B12345674/)
        assert.ok(t.submitted_at, 'the inline attempt was sent')
        assert.equal(t.completed_at, null)
        // The inline attempt goes on in the background and its answer settles the sale.
        const done = await eventually(
          () => getTransaction(h.app, key, t.id),
          (x) => x.status !== 'pending_submission',
          'the AEAT answer',
        )
        assert.equal(done.status, 'success', JSON.stringify(done))
        assert.equal(done.fiscal_id, t.fiscal_id)
        assert.equal(done.response_payload.authority.state, 'Correcto')
        assert.ok(done.completed_at)
      } finally {
        sim.faults.reconfigure({ slowMs: 0 })
      }
    })

    test('VERI*FACTU outage: pending_submission through failed attempts, cancellable; the anulación waits for its alta', async () => {
      const { key } = await newAccount(h.app)
      const location = await newLocation(h.app, key, 'ES', VERIFACTU('B23456785'))
      sim.faults.reconfigure(FOREVER())
      const t = (await createTransaction(h.app, key, sale(location.id))).json()
      // The inline attempt was refused (503): sealed, not registered, not `failed` either.
      assert.equal(t.status, 'pending_submission', JSON.stringify(t))
      assert.ok(t.error_message, 'the refused attempt is shown')
      // From now on the alta's next attempt is in the future (it is rescheduled after this one if due).
      frozen = Date.now()
      await h.runtime.v1.jobs.runDueOnce()
      assert.equal((await getTransaction(h.app, key, t.id)).status, 'pending_submission')

      // Cancellable while it waits: a chained RegistroAnulacion, `pending` like any cancellation.
      const cancel = await cancelOf(h, key, t.id)
      assert.equal(cancel.statusCode, 201, cancel.body)
      const cancellation = cancel.json()
      assert.equal(cancellation.status, 'pending')
      assert.equal((await getTransaction(h.app, key, t.id)).status, 'cancelled')
      // While the AEAT is down, the anulación goes nowhere before its alta: it is not registered, and the
      // AEAT holds neither (the order in which they reach it is checked below).
      await h.runtime.v1.jobs.runDueOnce()
      assert.ok(
        ['pending', 'failed'].includes((await getTransaction(h.app, key, cancellation.id)).status),
        'the anulación waits',
      )
      assert.equal(
        (await simState(sim)).aeat.invoices.filter((i: any) => i.issuerNif === 'B23456785').length,
        0,
      )

      frozen = undefined
      sim.faults.reconfigure({ outages: [] })
      const done = await runUntilNot(key, cancellation.id, ['pending', 'processing', 'failed'])
      assert.equal(done.status, 'success', JSON.stringify(done))
      const original = await getTransaction(h.app, key, t.id)
      assert.equal(original.status, 'cancelled')
      assert.equal(original.response_payload.authority.state, 'Correcto')
      // The AEAT got the alta first and then the anulación: registered, then cancelled, never refused.
      const invoice = (await simState(sim)).aeat.invoices.find((i: any) => i.seriesNumber === t.fiscal_id)
      assert.equal(invoice.state, 'Anulada')
    })

    test('out of attempts: pending_submission becomes failed_permanent, which is not cancellable', async () => {
      const { key } = await newAccount(h.app)
      const location = await newLocation(h.app, key, 'ES', VERIFACTU('B34567896'))
      sim.faults.reconfigure(FOREVER())
      try {
        const t = (await createTransaction(h.app, key, sale(location.id), NOW)).json()
        assert.equal(t.status, 'pending_submission')
        const dead = await runUntilNot(key, t.id, ['pending_submission'])
        assert.equal(dead.status, 'failed_permanent', JSON.stringify(dead))
        assert.match(dead.error_message, new RegExp(`gave up after ${MAX_ATTEMPTS} attempts`))
        const cancel = await cancelOf(h, key, t.id)
        assert.equal(cancel.statusCode, 409, cancel.body)
        assert.equal(cancel.json().error, 'transaction cannot be cancelled')
      } finally {
        sim.faults.reconfigure({ outages: [] })
      }
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
      const cancel = await cancelOf(h, key, t.id)
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
      assert.equal(jobs.json().by_kind['es-pos-submit'].completed, 1, jobs.body)

      // The cancellation goes its own way and ends success; the original is still cancelled.
      const done = await runUntilNot(key, cancellation.id, ['pending', 'processing', 'failed'])
      assert.equal(done.status, 'success', JSON.stringify(done))
      assert.equal((await getTransaction(h.app, key, t.id)).status, 'cancelled')
      const state = (await (await fetch(`${sim.url}/_sim/state`)).json()) as any
      assert.equal(state.ticketbai.invoices.find((i: any) => i.identifier === t.fiscal_id).cancelled, true)
    })
  })
}
