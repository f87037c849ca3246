import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { bearer, createTransaction, eventually, newAccount, newLocation, sale } from './support.ts'

// Webhooks against a real receiver: signatures checked from the documented rule (HMAC-SHA256 over
// "{timestamp}.{body}" with the whsec_ secret), retries through the outbox, the delivery log.
interface Received {
  headers: Record<string, string | string[] | undefined>
  body: string
}

async function receiver(): Promise<{
  server: Server
  url: string
  received: Received[]
  failNext: (n: number) => void
}> {
  const received: Received[] = []
  let failures = 0
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (c: Buffer) => chunks.push(c))
    request.on('end', () => {
      if (failures > 0) {
        failures -= 1
        response.writeHead(500).end('down')
        return
      }
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') })
      response.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hooks`
  return { server, url, received, failNext: (n) => (failures = n) }
}

const expectedSignature = (secret: string, timestamp: string, body: string) =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')

for (const engine of await engines()) {
  void describe(`webhooks (${engine})`, () => {
    let h: Harness
    let peer: Awaited<ReturnType<typeof receiver>>
    before(async () => {
      peer = await receiver()
      h = await startHarness(engine, {
        v1: {
          engine: { pollMs: 10, backoffBaseMs: 10, backoffMaxMs: 50, concurrency: 2 },
          webhookMaxAttempts: 3,
          rateLimit: { perMinute: 1_000_000, burst: 1_000_000 },
        },
      })
      h.runtime.v1.start()
    })
    after(async () => {
      await h.close()
      await new Promise((resolve) => peer.server.close(resolve))
    })

    void test('fiscalization.completed and transaction.cancelled are delivered, signed with the whsec_ secret', async () => {
      const { key } = await newAccount(h.app)
      const location = await newLocation(h.app, key)
      const created = await h.app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: bearer(key),
        payload: { url: peer.url },
      })
      assert.equal(created.statusCode, 201)
      const { endpoint, secret } = created.json()
      assert.match(secret, /^whsec_/)
      assert.deepEqual(endpoint.events, [
        'fiscalization.completed',
        'fiscalization.dead_letter',
        'transaction.cancelled',
      ])
      const stored = await h.runtime.storage.db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('id', '=', endpoint.id)
        .executeTakeFirstOrThrow()
      assert.ok(!stored.secret_encrypted.includes(secret.slice(6)), 'the secret is sealed at rest')
      const t = (await createTransaction(h.app, key, sale(location.id))).json()
      await h.app.inject({
        method: 'POST',
        url: `/v1/transactions/${t.id}/cancel`,
        headers: bearer(key),
        payload: { reason: 'x' },
      })
      const mine = () =>
        peer.received.filter((r) => JSON.parse(r.body).data.transaction?.account_id === t.account_id)
      await eventually(
        async () => mine().length,
        (n) => n >= 3,
        'three deliveries',
      )
      const events = mine().map((r) => JSON.parse(r.body))
      assert.deepEqual(events.map((e) => e.type).sort(), [
        'fiscalization.completed',
        'fiscalization.completed',
        'transaction.cancelled',
      ])
      const completed = events.find(
        (e) => e.type === 'fiscalization.completed' && e.data.transaction.id === t.id,
      )
      assert.equal(completed.data.transaction.status, 'success')
      assert.equal(completed.data.transaction.fiscal_id, t.fiscal_id)
      const cancelled = events.find((e) => e.type === 'transaction.cancelled')
      assert.equal(cancelled.data.transaction.status, 'cancelled')
      assert.equal(cancelled.data.cancellation.original_transaction_id, t.id)
      for (const r of mine()) {
        const timestamp = String(r.headers['x-fiscalbox-timestamp'])
        const header = String(r.headers['x-fiscalbox-signature'])
        assert.equal(header, `t=${timestamp},v1=${expectedSignature(secret, timestamp, r.body)}`)
        assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 600)
        assert.equal(r.headers['x-fiscalbox-event'], JSON.parse(r.body).type)
      }
    })

    void test('a failing receiver is retried with backoff, and the delivery log shows the attempts', async () => {
      const { key } = await newAccount(h.app)
      const location = await newLocation(h.app, key)
      const { endpoint } = (
        await h.app.inject({
          method: 'POST',
          url: '/v1/webhooks',
          headers: bearer(key),
          payload: { url: peer.url, events: ['fiscalization.completed'] },
        })
      ).json()
      peer.failNext(2)
      const t = (await createTransaction(h.app, key, sale(location.id))).json()
      const log = await eventually(
        async () =>
          (
            await h.app.inject({
              method: 'GET',
              url: `/v1/webhooks/${endpoint.id}/deliveries`,
              headers: bearer(key),
            })
          ).json(),
        (l) => l.data[0]?.status === 'delivered',
        'the delivery to succeed',
      )
      assert.equal(log.total, 1)
      assert.equal(log.data[0].attempts, 3)
      assert.equal(log.data[0].last_status_code, 204)
      assert.equal(log.data[0].event_type, 'fiscalization.completed')
      assert.ok(peer.received.some((r) => JSON.parse(r.body).data.transaction.id === t.id))
    })

    void test('an unreachable receiver ends in the dead letter; a manual retry delivers it', async () => {
      const { key } = await newAccount(h.app)
      const location = await newLocation(h.app, key)
      const { endpoint } = (
        await h.app.inject({
          method: 'POST',
          url: '/v1/webhooks',
          headers: bearer(key),
          payload: { url: peer.url, events: ['fiscalization.completed'] },
        })
      ).json()
      peer.failNext(1_000)
      await createTransaction(h.app, key, sale(location.id))
      const dead = await eventually(
        async () =>
          (
            await h.app.inject({
              method: 'GET',
              url: '/v1/retry-queue?status=dead&kind=webhook',
              headers: bearer(key),
            })
          ).json(),
        (l) => l.total === 1,
        'the webhook job to die',
      )
      assert.equal(dead.data[0].attempts, 3)
      assert.match(dead.data[0].last_error, /answered 500/)
      const log = (
        await h.app.inject({
          method: 'GET',
          url: `/v1/webhooks/${endpoint.id}/deliveries`,
          headers: bearer(key),
        })
      ).json()
      assert.equal(log.data[0].status, 'failed')
      peer.failNext(0)
      const retried = await h.app.inject({
        method: 'POST',
        url: `/v1/retry-queue/${dead.data[0].id}/retry`,
        headers: bearer(key),
      })
      assert.equal(retried.statusCode, 200)
      await eventually(
        async () =>
          (
            await h.app.inject({
              method: 'GET',
              url: `/v1/webhooks/${endpoint.id}/deliveries`,
              headers: bearer(key),
            })
          ).json(),
        (l) => l.data[0]?.status === 'delivered',
        'the retried delivery',
      )
    })

    void test('endpoints: bad URLs and events are refused; removal; scoped to the account', async () => {
      const { key } = await newAccount(h.app)
      for (const payload of [
        { url: 'ftp://x' },
        { url: 'not a url' },
        { url: peer.url, events: ['sale.created'] },
      ]) {
        const response = await h.app.inject({
          method: 'POST',
          url: '/v1/webhooks',
          headers: bearer(key),
          payload,
        })
        assert.equal(response.statusCode, 400, JSON.stringify(payload))
      }
      const { endpoint } = (
        await h.app.inject({
          method: 'POST',
          url: '/v1/webhooks',
          headers: bearer(key),
          payload: { url: peer.url },
        })
      ).json()
      const stranger = (await newAccount(h.app)).key
      assert.equal(
        (
          await h.app.inject({
            method: 'DELETE',
            url: `/v1/webhooks/${endpoint.id}`,
            headers: bearer(stranger),
          })
        ).statusCode,
        404,
      )
      assert.equal(
        (
          await h.app.inject({
            method: 'GET',
            url: `/v1/webhooks/${endpoint.id}/deliveries`,
            headers: bearer(stranger),
          })
        ).statusCode,
        404,
      )
      assert.equal(
        (await h.app.inject({ method: 'DELETE', url: `/v1/webhooks/${endpoint.id}`, headers: bearer(key) }))
          .statusCode,
        204,
      )
      assert.equal(
        (await h.app.inject({ method: 'GET', url: '/v1/webhooks', headers: bearer(key) })).json().data.length,
        0,
      )
    })
  })
}
