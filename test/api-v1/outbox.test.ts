import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { openRuntime, type Runtime } from '../../src/runtime.ts'
import type { V1Settings } from '../../src/v1-runtime.ts'
import {
  authorityStandIn,
  type StubProcess,
  startAuthorityStub,
  stubClient,
} from '../helpers/authority-client.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import {
  allTransactions,
  bearer,
  createTransaction,
  eventually,
  getTransaction,
  newAccount,
  newLocation,
  sale,
  SPAIN,
  verifyChain,
} from './support.ts'

// The asynchronous engine against a real failing peer: a stub authority in its own process that is told
// to be down, to hang after registering, or to refuse chosen records.
const CLIENT_TIMEOUT_MS = 600
const MAX_ATTEMPTS = 8

function settings(stub: StubProcess): V1Settings {
  return {
    fiscalizers: {
      ES: authorityStandIn(() => stubClient(stub.url, CLIENT_TIMEOUT_MS, 10)),
    },
    engine: {
      pollMs: 10,
      backoffBaseMs: 10,
      backoffMaxMs: 200,
      maxAttempts: MAX_ATTEMPTS,
      concurrency: 2,
      leaseMs: 5_000,
    },
    defaultInlineTimeoutMs: 3_000,
    // The tests poll the API while the outbox works: no rate limit in the way.
    rateLimit: { perMinute: 1_000_000, burst: 1_000_000 },
  }
}

for (const engine of await engines()) {
  void describe(`jobs outbox with an authority (${engine})`, () => {
    let h: Harness
    let stub: StubProcess
    before(async () => {
      stub = await startAuthorityStub()
      h = await startHarness(engine, { v1: settings(stub) })
      h.runtime.v1.start()
    })
    after(async () => {
      await h.close()
      await stub.stop()
    })

    async function setup() {
      const { key } = await newAccount(h.app)
      const location = await newLocation(h.app, key, 'ES', SPAIN)
      return { key, location }
    }
    const settle = (key: string, id: string) =>
      eventually(
        () => getTransaction(h.app, key, id),
        (t) => ['success', 'failed_permanent'].includes(t.status),
        `transaction ${id} to settle`,
      )
    const noDuplicates = async () =>
      assert.equal((await stub.stats()).duplicates, 0, 'no record registered twice')

    void test('inline: registered within the timeout, answered 201 with success and the authority id', async () => {
      await stub.control({ mode: 'ok', rejectIds: [], failEvery: 0 })
      const { key, location } = await setup()
      const response = await createTransaction(h.app, key, sale(location.id), {
        'x-fiscalization-timeout': '5',
      })
      assert.equal(response.statusCode, 201)
      const t = response.json()
      assert.equal(t.status, 'success')
      assert.match(t.fiscal_id, /^AUTH-\d+$/)
      assert.ok(t.submitted_at && t.completed_at)
      assert.equal(t.response_payload.authority.status, 'registered')
      assert.equal(t.response_payload.record.fiscalizer, 'generic')
    })

    void test('X-Fiscalization-Timeout: 0 answers at once (pending), the outbox finishes it', async () => {
      await stub.control({ mode: 'slow', delayMs: 200 })
      const { key, location } = await setup()
      const response = await createTransaction(h.app, key, sale(location.id), {
        'x-fiscalization-timeout': '0',
      })
      assert.equal(response.statusCode, 201)
      assert.ok(['pending', 'processing'].includes(response.json().status), response.json().status)
      const done = await settle(key, response.json().id)
      assert.equal(done.status, 'success')
      const bad = await createTransaction(h.app, key, sale(location.id), {
        'x-fiscalization-timeout': 'soon',
      })
      assert.equal(bad.statusCode, 400)
      await stub.control({ mode: 'ok' })
    })

    void test('a slow authority: 201 when the timeout hint runs out, fiscalized in the background', async () => {
      await stub.control({ mode: 'slow', delayMs: 300 })
      const { key, location } = await setup()
      const response = await createTransaction(h.app, key, sale(location.id), {
        'x-fiscalization-timeout': '0.05',
      })
      assert.equal(response.statusCode, 201)
      // Answered before the authority: the attempt is under way (processing) or just being claimed.
      assert.ok(['pending', 'processing'].includes(response.json().status), response.json().status)
      assert.equal((await settle(key, response.json().id)).status, 'success')
      await stub.control({ mode: 'ok' })
    })

    void test('an outage: transactions are failed (retrying) with the error, then all registered once', async () => {
      await stub.control({ mode: 'down' })
      const { key, location } = await setup()
      const ids: string[] = []
      for (let i = 0; i < 5; i++)
        ids.push(
          (await createTransaction(h.app, key, sale(location.id), { 'x-fiscalization-timeout': '0' })).json()
            .id,
        )
      const failing = await eventually(
        () => getTransaction(h.app, key, ids[0] as string),
        (t) => t.status === 'failed',
        'a retry to be scheduled',
      )
      assert.match(failing.error_message, /503/)
      await stub.control({ mode: 'ok' })
      for (const id of ids) assert.equal((await settle(key, id)).status, 'success')
      await noDuplicates()
      verifyChain(await allTransactions(h.app, key), location.public_key)
    })

    void test('the authority asks for a wait (Retry-After): the next attempt is no earlier', async () => {
      await stub.control({ mode: 'down', retryAfterS: 2 })
      const { key, location } = await setup()
      const t = (
        await createTransaction(h.app, key, sale(location.id), { 'x-fiscalization-timeout': '0' })
      ).json()
      const job = await eventually(
        async () =>
          (await h.app.inject({ method: 'GET', url: '/v1/retry-queue', headers: bearer(key) })).json()
            .data[0],
        (j) => j?.status === 'failed',
        'the first attempt to fail',
      )
      const wait = Date.parse(job.next_attempt_at) - Date.parse(job.updated_at)
      assert.ok(
        wait >= 1_900,
        `the next attempt is ${wait} ms after the failure, the authority asked for 2000`,
      )
      assert.equal(job.attempts, 1)
      await stub.control({ mode: 'ok', retryAfterS: 0 })
      assert.equal((await settle(key, t.id)).status, 'success')
    })

    void test('max attempts: failed_permanent, dead letter in the retry queue, manual retry registers it', async () => {
      await stub.control({ mode: 'down' })
      const { key, location } = await setup()
      const t = (
        await createTransaction(h.app, key, sale(location.id), { 'x-fiscalization-timeout': '0' })
      ).json()
      const dead = await settle(key, t.id)
      assert.equal(dead.status, 'failed_permanent')
      assert.match(dead.error_message, new RegExp(`gave up after ${MAX_ATTEMPTS} attempts`))
      const stats = (
        await h.app.inject({ method: 'GET', url: '/v1/retry-queue/stats', headers: bearer(key) })
      ).json()
      assert.equal(stats.dead, 1)
      assert.equal(stats.by_kind.fiscalize.dead, 1)
      const list = (
        await h.app.inject({ method: 'GET', url: '/v1/retry-queue?status=dead', headers: bearer(key) })
      ).json()
      assert.equal(list.total, 1)
      const job = list.data[0]
      assert.equal(job.subject_id, t.id)
      assert.equal(job.attempts, MAX_ATTEMPTS)
      assert.equal(dead.status, 'failed_permanent')
      // A dead transaction cannot be cancelled.
      const cancel = await h.app.inject({
        method: 'POST',
        url: `/v1/transactions/${t.id}/cancel`,
        headers: bearer(key),
        payload: {},
      })
      assert.equal(cancel.statusCode, 409)
      await stub.control({ mode: 'ok' })
      const retried = await h.app.inject({
        method: 'POST',
        url: `/v1/retry-queue/${job.id}/retry`,
        headers: bearer(key),
      })
      assert.equal(retried.statusCode, 200)
      assert.equal(retried.json().attempts, 0)
      assert.equal((await settle(key, t.id)).status, 'success')
      const again = await h.app.inject({
        method: 'POST',
        url: `/v1/retry-queue/${job.id}/retry`,
        headers: bearer(key),
      })
      assert.equal(again.statusCode, 409)
      const stranger = (await newAccount(h.app)).key
      assert.equal(
        (
          await h.app.inject({
            method: 'POST',
            url: `/v1/retry-queue/${job.id}/retry`,
            headers: bearer(stranger),
          })
        ).statusCode,
        404,
      )
      await noDuplicates()
    })

    void test('a refused record goes to the dead letter alone; the records behind it are registered', async () => {
      await stub.control({ mode: 'down' })
      const { key, location } = await setup()
      const ids: string[] = []
      for (let i = 0; i < 5; i++)
        ids.push(
          (await createTransaction(h.app, key, sale(location.id), { 'x-fiscalization-timeout': '0' })).json()
            .id,
        )
      await stub.control({ mode: 'ok', rejectIds: [ids[1]] })
      const settled = await Promise.all(ids.map((id) => settle(key, id)))
      assert.deepEqual(
        settled.map((t) => t.status),
        ['success', 'failed_permanent', 'success', 'success', 'success'],
      )
      assert.match(settled[1].error_message, /rejected by the authority/)
      assert.equal(settled[1].response_payload.authority.status, 'rejected')
      verifyChain(await allTransactions(h.app, key), location.public_key)
      await stub.control({ rejectIds: [] })
    })

    void test('unknown outcome: the authority registered but never answered; reconciled, not sent twice', async () => {
      // The stub registers every record and never answers: each submission is an unknown outcome. The job
      // can only complete by asking the authority (query); a resend would hang again and count as a
      // duplicate at the stub.
      await stub.control({ mode: 'hang' })
      const { key, location } = await setup()
      const t = (
        await createTransaction(h.app, key, sale(location.id), { 'x-fiscalization-timeout': '0' })
      ).json()
      const done = await settle(key, t.id)
      await stub.control({ mode: 'ok' })
      assert.equal(done.status, 'success')
      assert.match(done.fiscal_id, /^AUTH-\d+$/)
      assert.equal(done.response_payload.authority.registered, true, 'the answer came from the query')
      const job = (await h.app.inject({ method: 'GET', url: '/v1/retry-queue', headers: bearer(key) })).json()
        .data[0]
      assert.equal(job.status, 'completed')
      assert.equal(job.attempts, 2, 'one submission without an answer, then one query')
      assert.equal(job.reconcile, false)
      await noDuplicates()
      assert.equal((await stub.stats()).ids.filter((id) => id === t.id).length, 1)
    })

    void test('pending_lroe: accepted for a later batch; cancellable; the cancellation is submitted too', async () => {
      await stub.control({ mode: 'down' })
      const { key, location } = await setup()
      const t = (
        await createTransaction(h.app, key, sale(location.id), { 'x-fiscalization-timeout': '0' })
      ).json()
      await stub.control({ mode: 'ok', lroeIds: [t.id] })
      const accepted = await eventually(
        () => getTransaction(h.app, key, t.id),
        (x) => x.status === 'pending_lroe',
        'pending_lroe',
      )
      assert.match(accepted.fiscal_id, /^AUTH-\d+$/)
      assert.equal(accepted.completed_at, null)
      const listed = (
        await h.app.inject({
          method: 'GET',
          url: '/v1/transactions?status=pending_lroe',
          headers: bearer(key),
        })
      ).json()
      assert.deepEqual(
        listed.data.map((x: any) => x.id),
        [t.id],
      )
      const cancel = await h.app.inject({
        method: 'POST',
        url: `/v1/transactions/${t.id}/cancel`,
        headers: bearer(key),
        payload: { reason: 'void' },
      })
      assert.equal(cancel.statusCode, 201)
      const c = await settle(key, cancel.json().id)
      assert.equal(c.status, 'success')
      assert.equal(c.type, 'cancellation')
      assert.equal((await getTransaction(h.app, key, t.id)).status, 'cancelled')
      assert.ok((await stub.stats()).ids.includes(c.id), 'the cancellation record went to the authority')
      verifyChain(await allTransactions(h.app, key), location.public_key)
      await stub.control({ lroeIds: [] })
    })

    void test('fault injection: every third submission fails, some answers hang; all settle, none twice', async () => {
      await stub.control({ mode: 'ok', failEvery: 3 })
      const { key, location } = await setup()
      const ids: string[] = []
      for (let i = 0; i < 30; i++) {
        if (i === 10) await stub.control({ mode: 'hang' })
        if (i === 13) await stub.control({ mode: 'ok' })
        ids.push(
          (await createTransaction(h.app, key, sale(location.id), { 'x-fiscalization-timeout': '0' })).json()
            .id,
        )
      }
      await stub.control({ mode: 'ok', failEvery: 0 })
      const settled = await Promise.all(ids.map((id) => settle(key, id)))
      assert.equal(settled.length, 30)
      assert.ok(settled.every((t) => ['success', 'failed_permanent'].includes(t.status)))
      const registered = new Set((await stub.stats()).ids)
      assert.ok(settled.filter((t) => t.status === 'success').every((t) => registered.has(t.id)))
      await noDuplicates()
      verifyChain(await allTransactions(h.app, key), location.public_key)
    })

    if (engine === 'postgres') {
      void test('a node that stops answering loses its job after the lease; the other node reconciles it', async () => {
        await stub.control({ mode: 'hang' })
        // Node A: a short lease and a client that waits long, no background workers: it takes the job
        // inline and then hangs on the authority as a stuck or dying node would.
        const slow = settings(stub)
        const a = await startHarness(engine, {
          v1: {
            ...slow,
            fiscalizers: {
              ES: authorityStandIn(() => stubClient(stub.url, 4_000)),
            },
            engine: { ...slow.engine, leaseMs: 300 },
          },
        })
        const b = await openRuntime(
          { DATABASE_URL: a.databaseUrl, FISCALBOX_DATA_DIR: a.dataDir, PG_POOL_SIZE: 5 },
          { v1: settings(stub) },
        )
        try {
          const { key } = await newAccount(a.app)
          const location = await newLocation(a.app, key, 'ES', SPAIN)
          const t = (
            await createTransaction(a.app, key, sale(location.id), { 'x-fiscalization-timeout': '0.1' })
          ).json()
          await eventually(
            () => stub.stats(),
            (x) => x.ids.includes(t.id),
            'node A to reach the authority',
          )
          b.v1.start()
          const done = await eventually(
            () => getTransaction(a.app, key, t.id),
            (x) => x.status === 'success',
            'node B to take the job over and reconcile it',
          )
          assert.equal(done.response_payload.authority.registered, true, 'found by the query, not sent again')
          const job = (
            await a.app.inject({ method: 'GET', url: '/v1/retry-queue', headers: bearer(key) })
          ).json().data[0]
          assert.equal(job.status, 'completed')
          assert.equal(job.attempts, 2)
          await stub.control({ mode: 'ok' })
          // Node A's attempt ends later (its client times out): it no longer holds the job, so it changes nothing.
          await a.runtime.v1.jobs.stop() // waits for node A's attempts in flight to end
          const after = await getTransaction(a.app, key, t.id)
          assert.equal(after.status, 'success')
          assert.equal(after.error_message, null)
          const jobAfter = (
            await a.app.inject({ method: 'GET', url: `/v1/retry-queue/${job.id}`, headers: bearer(key) })
          ).json()
          assert.equal(jobAfter.status, 'completed')
          await noDuplicates()
        } finally {
          await stub.control({ mode: 'ok' })
          await b.close()
          await a.close()
        }
      })

      void test('two nodes on one PostgreSQL drain a backlog side by side (SKIP LOCKED), none twice', async () => {
        await stub.control({ mode: 'slow', delayMs: 20 })
        const second: Runtime = await openRuntime(
          { DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir, PG_POOL_SIZE: 5 },
          { v1: settings(stub) },
        )
        try {
          second.v1.start()
          const { key, location } = await setup()
          const ids: string[] = []
          for (let i = 0; i < 40; i++)
            ids.push(
              (
                await createTransaction(h.app, key, sale(location.id), { 'x-fiscalization-timeout': '0' })
              ).json().id,
            )
          await stub.control({ mode: 'ok' })
          const settled = await Promise.all(ids.map((id) => settle(key, id)))
          assert.ok(settled.every((t) => t.status === 'success'))
          await noDuplicates()
        } finally {
          await second.close()
        }
      })
    }
  })
}
