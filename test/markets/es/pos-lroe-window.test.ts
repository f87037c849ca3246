import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { sandboxSigningCredentials } from '../../../src/markets/es/sandbox-signer.ts'
import { startSimulator } from '../../../src/markets/es/simulator/app.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { ES_CASE, EsPos, esReceipt } from './pos-support.ts'

/**
 * ES cash boxes on /v2/sign and the outbox, through HTTP on both engines: a Bizkaia cash box's records
 * wait for the daily LROE window like v1 locations (FISCALBOX_ES_LROE_AT, default 02:00 UTC) and go out as
 * LROE batches; the cash box can send its held batch now and retry its dead submission jobs by hand, with
 * its own credentials and no other cash box's. The outbox's clock is the test's (moved, not waited for);
 * the workers are not started: due jobs run by hand (runDueOnce).
 */
type Sim = Awaited<ReturnType<typeof startSimulator>>

const BIZKAIA = { system: 'ticketbai', territory: 'bizkaia', name: 'Taberna SL', series: 'TK' }
const GIPUZKOA = { system: 'ticketbai', territory: 'gipuzkoa', name: 'Sagardotegi SL' }
const VERIFACTU = { system: 'verifactu', name: 'Bar Ejemplo SL' }
const at = (time: string) => Date.parse(time)
const stateFlags = (ftState: string) => BigInt(ftState) & 0xffff_ffffn

for (const engine of await engines()) {
  void describe(`ES cash boxes: Bizkaia's LROE window, held batch, manual retry (${engine})`, () => {
    let h: Harness
    let sim: Sim
    let now = at('2026-03-09T15:00:00Z')
    before(async () => {
      const credentials = await sandboxSigningCredentials()
      sim = await startSimulator()
      h = await startHarness(engine, {
        v1: { engine: { backoffBaseMs: 20, backoffMaxMs: 100, maxAttempts: 2 }, clock: () => now },
        // lroeAt not given: the default, 02:00 UTC.
        es: { simulatorUrl: sim.url, timeoutMs: 2_000, testCredentials: credentials },
      })
    })
    after(async () => {
      await h.close()
      await sim.close()
    })

    // Each cash box its own issuer: the simulator chains the records per issuer NIF.
    let issuers = 0
    const newPos = async (
      config: Record<string, unknown>,
      nif = `B48${String(++issuers).padStart(6, '0')}`,
    ) => {
      const pos = new EsPos(h.app, await h.runtime.cashboxes.create('ES', 'es window test'))
      await pos.configure({ ...config, nif })
      await pos.start()
      return pos
    }
    const tbai = async () => ((await (await fetch(`${sim.url}/_sim/state`)).json()) as any).ticketbai
    const runDue = () => h.runtime.v1.jobs.runDueOnce()
    const jobsOf = async (pos: EsPos, query = '') => {
      const reply = await pos.request('GET', `/es/v1/jobs?limit=100${query}`)
      assert.equal(reply.status, 200, reply.payload)
      return reply.json().data as any[]
    }
    const anonymous = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}) =>
      h.app.inject({ method, url, headers })

    test('sales and a void wait for 02:00 UTC, then go out as one A00 and one AN0 batch; Gipuzkoa goes at once', async () => {
      now = at('2026-03-09T15:00:00Z')
      const bizkaia = await newPos(BIZKAIA)
      const gipuzkoa = await newPos(GIPUZKOA)
      const before = await tbai()

      const sales: Record<string, unknown>[] = []
      for (let i = 0; i < 3; i++) {
        const sale = esReceipt(ES_CASE.pos, [{ amount: `${i + 1}.21`, vat: 21 }])
        const signed = await bizkaia.signOk(sale)
        assert.equal(stateFlags(signed.ftState), 0x40n, 'message pending while the record is held')
        sales.push(sale)
      }
      const voided = await bizkaia.signOk(
        esReceipt(ES_CASE.voidPos, [{ amount: '-1.21', vat: 21 }], {
          cbPreviousReceiptReference: sales[0]?.cbReceiptReference,
        }),
      )
      assert.equal(stateFlags(voided.ftState), 0x40n)
      const held = await bizkaia.records()
      assert.equal(held.length, 4)
      for (const record of held) {
        assert.equal(record.status, 'pending')
        assert.deepEqual(record.held, { window: 'lroe', until: '2026-03-10T02:00:00.000Z' })
      }
      for (const job of await jobsOf(bizkaia)) {
        assert.equal(job.kind, 'es-pos-submit')
        assert.equal(job.batch_window, 'lroe')
        assert.equal(job.next_attempt_at, '2026-03-10T02:00:00.000Z')
      }
      // Gipuzkoa has no window: due at once.
      await gipuzkoa.signOk(esReceipt(ES_CASE.pos, [{ amount: '2.00', vat: 21 }]))
      assert.equal((await gipuzkoa.records())[0].held, null)
      assert.equal(await runDue(), 1, 'only the Gipuzkoa record is due')
      assert.equal((await gipuzkoa.records())[0].status, 'accepted')

      now = at('2026-03-10T01:59:59Z')
      assert.equal(await runDue(), 0, 'nothing is due before the window')
      assert.equal((await tbai()).uploads, before.uploads + 1, 'only the Gipuzkoa invoice went out')
      assert.ok((await bizkaia.records()).every((r) => r.status === 'pending' && r.held))

      now = at('2026-03-10T02:00:00Z')
      assert.equal(await runDue(), 4, 'the whole held batch in one claim')
      const after = await tbai()
      assert.equal(after.uploads, before.uploads + 3, 'one A00 batch of three invoices, one AN0 batch')
      assert.equal(after.duplicates, before.duplicates)
      const records = await bizkaia.records()
      assert.deepEqual(
        records.map((r) => [r.kind, r.status, r.held]),
        [
          ['alta', 'accepted', null],
          ['alta', 'accepted', null],
          ['alta', 'accepted', null],
          ['anulacion', 'accepted', null],
        ],
      )
      const first = after.invoices.find((i: any) => i.identifier === records[0].identifier)
      assert.equal(first.cancelled, true, 'the void cancelled the first invoice at the authority')

      // The next record waits for the next day's window.
      await bizkaia.signOk(esReceipt(ES_CASE.pos, [{ amount: '9.00', vat: 21 }]))
      const late = (await bizkaia.records()).at(-1)
      assert.deepEqual(late.held, { window: 'lroe', until: '2026-03-11T02:00:00.000Z' })
    })

    test("POST /es/v1/batches/lroe/run sends the cash box's held batch now, not another cash box's", async () => {
      now = at('2026-03-09T10:00:00Z')
      const a = await newPos(BIZKAIA)
      const b = await newPos(BIZKAIA)
      for (let i = 0; i < 2; i++) await a.signOk(esReceipt(ES_CASE.pos, [{ amount: '3.00', vat: 21 }]))
      await b.signOk(esReceipt(ES_CASE.pos, [{ amount: '4.00', vat: 21 }]))
      assert.equal(await runDue(), 0)
      const heldJob = (await jobsOf(b))[0]

      // Refused requests change nothing: unknown window, no or wrong credentials, a cash box of another country.
      const unknown = await a.request('POST', '/es/v1/batches/daily/run')
      assert.equal(unknown.status, 400, unknown.payload)
      assert.match(unknown.payload, /window/)
      assert.equal((await anonymous('POST', '/es/v1/batches/lroe/run')).statusCode, 401)
      const wrong = await anonymous('POST', '/es/v1/batches/lroe/run', {
        'x-cashbox-id': a.box.cashboxId,
        'x-cashbox-accesstoken': 'not-the-token',
      })
      assert.equal(wrong.statusCode, 401)
      const german = await h.runtime.cashboxes.create('DE', 'not spanish')
      const foreign = await anonymous('POST', '/es/v1/batches/lroe/run', {
        'x-cashbox-id': german.cashboxId,
        'x-cashbox-accesstoken': german.accessToken,
      })
      assert.ok(foreign.statusCode >= 400 && foreign.statusCode < 500, `foreign ${foreign.body}`)
      assert.equal(await runDue(), 0, 'nothing released by the refused requests')

      const run = await a.request('POST', '/es/v1/batches/lroe/run')
      assert.equal(run.status, 200, run.payload)
      assert.deepEqual(run.json(), { window: 'lroe', released: 2 })
      assert.equal(await runDue(), 2)
      const sent = await a.records()
      assert.ok(
        sent.every((r) => r.status === 'accepted' && r.held === null),
        JSON.stringify(sent.map((r) => [r.status, r.held, r.authority])),
      )
      // Cash box B's record still waits for the window.
      const [waiting] = await b.records()
      assert.equal(waiting.status, 'pending')
      assert.deepEqual(waiting.held, { window: 'lroe', until: '2026-03-10T02:00:00.000Z' })
      assert.deepEqual(await jobsOf(b), [heldJob])
      // Nothing left to release: 0, not an error.
      assert.equal((await a.request('POST', '/es/v1/batches/lroe/run')).json().released, 0)

      const openapi = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json()
      for (const [path, method] of [
        ['/es/v1/batches/{window}/run', 'post'],
        ['/es/v1/jobs', 'get'],
        ['/es/v1/jobs/stats', 'get'],
        ['/es/v1/jobs/{id}/retry', 'post'],
      ] as const)
        assert.ok(openapi.paths[path]?.[method], `${method} ${path} documented in OpenAPI`)
    })

    test('a dead submission job of the cash box is retried by hand and ends accepted; other cash boxes get 404', async () => {
      now = at('2026-03-09T12:00:00Z')
      const pos = await newPos(VERIFACTU, 'B12345674')
      const other = await newPos(VERIFACTU)
      await fetch(`${sim.url}/_sim/outage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ seconds: 3600 }),
      })
      try {
        const signed = await pos.signOk(esReceipt(ES_CASE.pos, [{ amount: '7.00', vat: 21 }]))
        assert.equal(stateFlags(signed.ftState), 0x40n)
        // Two attempts (maxAttempts 2) against the outage, the clock moved past the backoff in between.
        assert.equal(await runDue(), 1)
        now += 60_000
        assert.equal(await runDue(), 1)
      } finally {
        await fetch(`${sim.url}/_sim/outage`, { method: 'DELETE' })
      }
      const [record] = await pos.records()
      assert.equal(record.status, 'failed_permanent')
      const [dead] = await jobsOf(pos, '&status=dead')
      assert.ok(dead, 'the dead job is listed')
      assert.equal(dead.subject_id.endsWith(':1'), true)
      const stats = await pos.request('GET', '/es/v1/jobs/stats')
      assert.equal(stats.status, 200, stats.payload)
      assert.equal(stats.json().dead, 1)
      assert.equal(stats.json().total, 1, "only the cash box's own jobs are counted")
      assert.deepEqual(await jobsOf(other, '&status=dead'), [], 'another cash box does not see the job')

      // Refused: another cash box's credentials (404), a non-id (404), no credentials (401), a bad status (400).
      const foreign = await other.request('POST', `/es/v1/jobs/${dead.id}/retry`)
      assert.equal(foreign.status, 404, foreign.payload)
      assert.equal((await pos.request('POST', '/es/v1/jobs/not-a-uuid/retry')).status, 404)
      assert.equal((await pos.request('POST', `/es/v1/jobs/${randomUUID()}/retry`)).status, 404)
      assert.equal((await anonymous('POST', `/es/v1/jobs/${dead.id}/retry`)).statusCode, 401)
      assert.equal((await anonymous('GET', '/es/v1/jobs')).statusCode, 401)
      const badStatus = await pos.request('GET', '/es/v1/jobs?status=buried')
      assert.equal(badStatus.status, 400, badStatus.payload)
      assert.deepEqual((await jobsOf(pos))[0], dead, 'the refused requests changed nothing')
      assert.equal((await pos.records())[0].status, 'failed_permanent')

      const retried = await pos.request('POST', `/es/v1/jobs/${dead.id}/retry`)
      assert.equal(retried.status, 200, retried.payload)
      assert.equal(retried.json().status, 'pending')
      assert.equal(retried.json().attempts, 0)
      assert.equal((await pos.records())[0].status, 'pending', 'the record is pending again')
      assert.equal(await runDue(), 1)
      const [done] = await pos.records()
      assert.equal(done.status, 'accepted', JSON.stringify(done.authority))
      assert.equal((await jobsOf(pos))[0].status, 'completed')
      const again = await pos.request('POST', `/es/v1/jobs/${dead.id}/retry`)
      assert.equal(again.status, 409, 'only a dead job can be retried')
      const state = (await (await fetch(`${sim.url}/_sim/state`)).json()) as any
      assert.equal(state.aeat.duplicates, 0)
      assert.equal(state.aeat.invoices.filter((i: any) => i.issuerNif === 'B12345674').length, 1)
    })
  })
}
