import assert from 'node:assert/strict'
import { createHash, randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { bearer, createTransaction, newAccount, newLocation, sale, SPAIN } from './support.ts'

// Accounts, API keys (shown once, stored as SHA-256, environment by prefix), locations and scoping.

for (const engine of await engines()) {
  void describe(`accounts, keys and locations (${engine})`, () => {
    let h: Harness
    before(async () => {
      h = await startHarness(engine)
    })
    after(async () => {
      await h.close()
    })

    void test('POST /v1/accounts: the first key is a test key shown once and stored only as its SHA-256', async () => {
      const email = `${randomUUID()}@Example.com`
      const { key, accountId, body } = await newAccount(h.app, email)
      assert.match(key, /^fsk_test_[0-9a-f]{64}$/)
      assert.equal(body.account.billing_email, email.toLowerCase())
      assert.equal(body.key.environment, 'test')
      assert.ok(!JSON.stringify(body.key).includes(key.slice(9)))
      const rows = await h.runtime.storage.db
        .selectFrom('api_keys')
        .selectAll()
        .where('account_id', '=', accountId)
        .execute()
      assert.equal(rows.length, 1)
      assert.equal(rows[0]?.key_hash, createHash('sha256').update(key).digest('hex'))
      assert.ok(!JSON.stringify(rows).includes(key.slice(9, 60)), 'the key itself is not stored')
      const listed = await h.app.inject({ method: 'GET', url: '/v1/api-keys', headers: bearer(key) })
      assert.equal(listed.statusCode, 200)
      assert.ok(!listed.body.includes(key.slice(9)))
      const duplicate = await h.app.inject({
        method: 'POST',
        url: '/v1/accounts',
        payload: { name: 'x', billing_email: email.toUpperCase() },
      })
      assert.equal(duplicate.statusCode, 409)
      const invalid = await h.app.inject({
        method: 'POST',
        url: '/v1/accounts',
        payload: { name: 'x', billing_email: 'nope' },
      })
      assert.equal(invalid.statusCode, 400)
    })

    void test('401 without a key, with a malformed, unknown or revoked key; no key needed for /health', async () => {
      const { key } = await newAccount(h.app)
      for (const authorization of [
        undefined,
        'Bearer nope',
        `Bearer fsk_test_${'0'.repeat(64)}`,
        `Basic ${key}`,
      ]) {
        const response = await h.app.inject({
          method: 'GET',
          url: '/v1/transactions',
          headers: authorization ? { authorization } : {},
        })
        assert.equal(response.statusCode, 401, authorization)
      }
      assert.equal((await h.app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
    })

    void test('live keys are refused with 403 while live fiscalization is disabled', async () => {
      const { key } = await newAccount(h.app)
      const created = await h.app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: bearer(key),
        payload: { environment: 'live', name: 'till 1' },
      })
      assert.equal(created.statusCode, 201)
      const live = created.json().api_key as string
      assert.match(live, /^fsk_live_[0-9a-f]{64}$/)
      const response = await h.app.inject({ method: 'GET', url: '/v1/transactions', headers: bearer(live) })
      assert.equal(response.statusCode, 403)
      assert.match(response.json().error, /live fiscalization is disabled/)
    })

    void test('rotation: the new key works at once, the old one stops; revocation likewise', async () => {
      const { key } = await newAccount(h.app)
      const keys = (await h.app.inject({ method: 'GET', url: '/v1/api-keys', headers: bearer(key) })).json()
        .data
      const rotated = await h.app.inject({
        method: 'POST',
        url: `/v1/api-keys/${keys[0].id}/rotate`,
        headers: bearer(key),
      })
      assert.equal(rotated.statusCode, 201)
      const next = rotated.json().api_key as string
      assert.match(next, /^fsk_test_/)
      assert.equal(rotated.json().revoked_key_id, keys[0].id)
      assert.equal(
        (await h.app.inject({ method: 'GET', url: '/v1/transactions', headers: bearer(key) })).statusCode,
        401,
      )
      assert.equal(
        (await h.app.inject({ method: 'GET', url: '/v1/transactions', headers: bearer(next) })).statusCode,
        200,
      )
      const extra = (
        await h.app.inject({
          method: 'POST',
          url: '/v1/api-keys',
          headers: bearer(next),
          payload: { environment: 'test' },
        })
      ).json()
      const revoked = await h.app.inject({
        method: 'DELETE',
        url: `/v1/api-keys/${extra.key.id}`,
        headers: bearer(next),
      })
      assert.equal(revoked.statusCode, 204)
      assert.equal(
        (await h.app.inject({ method: 'GET', url: '/v1/transactions', headers: bearer(extra.api_key) }))
          .statusCode,
        401,
      )
      const again = await h.app.inject({
        method: 'DELETE',
        url: `/v1/api-keys/${extra.key.id}`,
        headers: bearer(next),
      })
      assert.equal(again.statusCode, 404)
      // Another account cannot touch this account's keys.
      const stranger = (await newAccount(h.app)).key
      const foreign = await h.app.inject({
        method: 'POST',
        url: `/v1/api-keys/${rotated.json().key.id}/rotate`,
        headers: bearer(stranger),
      })
      assert.equal(foreign.statusCode, 404)
    })

    void test('locations: Spanish country_config is checked; SII (no receipts) is refused; all scoped', async () => {
      const { key } = await newAccount(h.app)
      const es = await newLocation(h.app, key, 'ES', SPAIN)
      assert.equal(es.country, 'ES')
      const post = (payload: unknown) =>
        h.app.inject({
          method: 'POST',
          url: '/v1/locations',
          headers: bearer(key),
          payload: payload as object,
        })
      const cases: Array<[unknown, string]> = [
        [{ name: 'x', country: 'ES', country_config: { nif: 'B12345674' } }, 'country_config.system'],
        [
          { name: 'x', country: 'ES', country_config: { system: 'verifactu', nif: '123' } },
          'country_config.nif',
        ],
        [
          { name: 'x', country: 'ES', country_config: { system: 'ticketbai', nif: 'B12345674' } },
          'country_config.territory',
        ],
        [
          {
            name: 'x',
            country: 'ES',
            country_config: { system: 'sii', nif: 'B12345674' },
          },
          'country_config.system',
        ],
        [{ name: 'x', country: 'españa' }, 'country'],
      ]
      for (const [payload, field] of cases) {
        const response = await post(payload)
        assert.equal(response.statusCode, 400, JSON.stringify(payload))
        assert.equal(response.json().details.field, field, response.body)
      }
      const list = (await h.app.inject({ method: 'GET', url: '/v1/locations', headers: bearer(key) })).json()
      assert.equal(list.total, 1)
      const stranger = (await newAccount(h.app)).key
      assert.equal(
        (await h.app.inject({ method: 'GET', url: `/v1/locations/${es.id}`, headers: bearer(stranger) }))
          .statusCode,
        404,
      )
      assert.equal(
        (
          await h.app.inject({
            method: 'POST',
            url: `/v1/locations/${es.id}/deactivate`,
            headers: bearer(stranger),
          })
        ).statusCode,
        404,
      )
      assert.equal((await createTransaction(h.app, stranger, sale(es.id))).json().error, 'location not found')
      const got = (
        await h.app.inject({ method: 'GET', url: `/v1/locations/${es.id}`, headers: bearer(key) })
      ).json()
      assert.deepEqual(got.country_config, SPAIN)
      assert.equal(got.active, true)
    })
  })
}

for (const engine of await engines()) {
  void describe(`live environment enabled, rate limits (${engine})`, () => {
    let h: Harness
    before(async () => {
      h = await startHarness(engine, { v1: { liveEnabled: true, rateLimit: { perMinute: 1, burst: 3 } } })
    })
    after(async () => {
      await h.close()
    })

    void test('a live key works when enabled, and its transactions are live with their own chain', async () => {
      const { key } = await newAccount(h.app)
      const live = (
        await h.app.inject({
          method: 'POST',
          url: '/v1/api-keys',
          headers: bearer(key),
          payload: { environment: 'live' },
        })
      ).json().api_key
      const location = await newLocation(h.app, live)
      const t = (await createTransaction(h.app, live, sale(location.id))).json()
      assert.equal(t.environment, 'live')
      assert.match(t.fiscal_id, /-L-000001$/)
    })

    void test('per key: X-RateLimit-* on every answer, 429 with Retry-After when the bucket is empty', async () => {
      const { key } = await newAccount(h.app)
      const other = (await newAccount(h.app)).key
      const answers = []
      for (let i = 0; i < 4; i++)
        answers.push(await h.app.inject({ method: 'GET', url: '/v1/transactions', headers: bearer(key) }))
      assert.deepEqual(
        answers.map((a) => a.statusCode),
        [200, 200, 200, 429],
      )
      assert.deepEqual(
        answers.map((a) => a.headers['x-ratelimit-remaining']),
        ['2', '1', '0', '0'],
      )
      assert.ok(answers.every((a) => a.headers['x-ratelimit-limit'] === '3'))
      const limited = answers[3]
      assert.ok(Number(limited?.headers['retry-after']) >= 1)
      assert.ok(Number(limited?.headers['x-ratelimit-reset']) >= 1)
      assert.match(limited?.json().error, /rate limit exceeded/)
      // Another key has its own bucket.
      assert.equal(
        (await h.app.inject({ method: 'GET', url: '/v1/transactions', headers: bearer(other) })).statusCode,
        200,
      )
    })
  })
}
