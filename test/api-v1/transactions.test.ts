import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import {
  allTransactions,
  bearer,
  createTransaction,
  getTransaction,
  newAccount,
  newLocation,
  sale,
  verifyChain,
} from './support.ts'

// docs/transactions-api-v1.md (the contract): create, list, get, cancel, their error texts and amount rules, on the generic
// fiscalizer (no authority: fiscalized when stored).
for (const engine of await engines()) {
  void describe(`transactions API v1 (${engine})`, () => {
    let h: Harness
    let key: string
    let location: { id: string; public_key: string }

    before(async () => {
      h = await startHarness(engine)
      key = (await newAccount(h.app)).key
      location = await newLocation(h.app, key)
    })
    after(async () => {
      await h.close()
    })

    const count = async () => (await allTransactions(h.app, key)).length

    void test('the example sale is stored, fiscalized inline and answered 201 with the amount in cents', async () => {
      const idempotencyKey = randomUUID()
      const response = await createTransaction(h.app, key, sale(location.id), {
        'idempotency-key': idempotencyKey,
      })
      assert.equal(response.statusCode, 201)
      const t = response.json()
      assert.equal(t.amount, 800)
      assert.equal(t.currency, 'EUR')
      assert.equal(t.country, 'EU')
      assert.equal(t.type, 'sale')
      assert.equal(t.status, 'success')
      assert.equal(t.environment, 'test')
      assert.equal(t.idempotency_key, idempotencyKey)
      assert.equal(t.location_id, location.id)
      assert.deepEqual(t.request_payload, sale(location.id))
      assert.match(t.fiscal_id, /^FBT-[0-9A-F]{8}-T-\d{6}$/)
      assert.equal(t.response_payload.fiscalizer, 'generic')
      assert.ok(t.completed_at && t.created_at)
      assert.deepEqual(await getTransaction(h.app, key, t.id), t)
    })

    void test('without Idempotency-Key a key is generated, and each request is a new transaction', async () => {
      const a = (await createTransaction(h.app, key, sale(location.id))).json()
      const b = (await createTransaction(h.app, key, sale(location.id))).json()
      assert.notEqual(a.id, b.id)
      assert.match(a.idempotency_key, /^[0-9a-f-]{36}$/)
      assert.notEqual(a.idempotency_key, b.idempotency_key)
    })

    void test('the same Idempotency-Key returns the stored transaction; a different body with it is 409', async () => {
      const idempotencyKey = randomUUID()
      const first = await createTransaction(h.app, key, sale(location.id), {
        'idempotency-key': idempotencyKey,
      })
      const before = await count()
      const again = await createTransaction(h.app, key, sale(location.id), {
        'idempotency-key': idempotencyKey,
      })
      assert.equal(again.statusCode, 201)
      assert.equal(again.headers['idempotent-replayed'], 'true')
      assert.deepEqual(again.json(), first.json())
      const other = await createTransaction(
        h.app,
        key,
        sale(location.id, { total_amount: 9, pretax_amount: 7.61 }),
        {
          'idempotency-key': idempotencyKey,
        },
      )
      assert.equal(other.statusCode, 409)
      assert.match(other.json().error, /Idempotency-Key was already used/)
      assert.equal(await count(), before)
    })

    void test('concurrent requests with one Idempotency-Key store one transaction (UNIQUE constraint)', async () => {
      const idempotencyKey = randomUUID()
      const before = await count()
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          createTransaction(h.app, key, sale(location.id), { 'idempotency-key': idempotencyKey }),
        ),
      )
      assert.deepEqual(new Set(answers.map((a) => a.statusCode)), new Set([201]))
      assert.equal(new Set(answers.map((a) => a.json().id)).size, 1)
      assert.equal(await count(), before + 1)
    })

    const refusals: Array<[string, Record<string, unknown>, string]> = [
      [
        'missing location_id',
        { location_id: undefined },
        "Key: 'CreateRequest.LocationID' Error:Field validation for 'LocationID' failed on the 'required' tag",
      ],
      [
        'missing total_amount',
        { total_amount: undefined },
        "Key: 'CreateRequest.TotalAmount' Error:Field validation for 'TotalAmount' failed on the 'required' tag",
      ],
      [
        'missing payment_method',
        { payment_method: undefined },
        "Key: 'CreateRequest.PaymentMethod' Error:Field validation for 'PaymentMethod' failed on the 'required' tag",
      ],
      ['empty items', { items: [] }, 'items must be a non-empty array'],
      ['items not an array', { items: 'coffee' }, 'items must be a non-empty array'],
      ['sum off by 0.02', { total_amount: 8.02 }, 'pretax_amount + tax_amount must equal total_amount'],
      ['unknown location', { location_id: randomUUID() }, 'location not found'],
    ]
    for (const [name, change, message] of refusals) {
      void test(`400 "${message.slice(0, 60)}" for ${name}, and nothing is written`, async () => {
        const before = await count()
        const response = await createTransaction(h.app, key, { ...sale(location.id), ...change })
        assert.equal(response.statusCode, 400, response.body)
        assert.equal(response.json().error, message)
        assert.equal(await count(), before)
      })
    }

    void test('negative amounts, a zero total and a percentage tax rate are refused', async () => {
      for (const change of [
        { pretax_amount: -1 },
        { tax_amount: -0.01 },
        { total_amount: 0, pretax_amount: 0, tax_amount: 0 },
      ]) {
        const response = await createTransaction(h.app, key, { ...sale(location.id), ...change })
        assert.equal(response.statusCode, 400, JSON.stringify(change))
        assert.match(response.json().error, /^Key: 'CreateRequest\.(PretaxAmount|TaxAmount|TotalAmount)'/)
      }
      const items = [{ description: 'x', quantity: 1, unit_price: 8, tax_rate: 21 }]
      const response = await createTransaction(h.app, key, { ...sale(location.id), items })
      assert.equal(response.statusCode, 400)
      assert.equal(
        response.json().error,
        "Key: 'CreateRequest.Items[0].TaxRate' Error:Field validation for 'TaxRate' failed on the 'lte' tag",
      )
    })

    void test('property: the sum rule holds within 0.01 exactly, and amount is total in cents', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 10_000_00 }),
          fc.integer({ min: 1, max: 10_000_00 }),
          fc.integer({ min: -3, max: 3 }),
          async (pretax, tax, off) => {
            const total = pretax + tax + off
            fc.pre(total > 0)
            const body = sale(location.id, {
              pretax_amount: pretax / 100,
              tax_amount: tax / 100,
              total_amount: total / 100,
            })
            const response = await createTransaction(h.app, key, body)
            if (Math.abs(off) <= 1) {
              assert.equal(response.statusCode, 201, response.body)
              assert.equal(response.json().amount, total)
            } else {
              assert.equal(response.statusCode, 400)
              assert.equal(response.json().error, 'pretax_amount + tax_amount must equal total_amount')
            }
          },
        ),
        { numRuns: 25 },
      )
    })

    void test('a deactivated location refuses new transactions: "location is not active"', async () => {
      const other = await newLocation(h.app, key)
      const off = await h.app.inject({
        method: 'POST',
        url: `/v1/locations/${other.id}/deactivate`,
        headers: bearer(key),
      })
      assert.equal(off.statusCode, 200)
      assert.equal(off.json().active, false)
      const response = await createTransaction(h.app, key, sale(other.id))
      assert.equal(response.statusCode, 400)
      assert.equal(response.json().error, 'location is not active')
    })

    void test('list: newest first, total, limit and offset with their bounds, status filter', async () => {
      const ids: string[] = []
      for (let i = 0; i < 3; i++) ids.push((await createTransaction(h.app, key, sale(location.id))).json().id)
      const first = await h.app.inject({
        method: 'GET',
        url: '/v1/transactions?limit=2',
        headers: bearer(key),
      })
      assert.equal(first.statusCode, 200)
      const page = first.json()
      assert.equal(page.limit, 2)
      assert.equal(page.offset, 0)
      assert.deepEqual(
        page.data.map((t: any) => t.id),
        [ids[2], ids[1]],
      )
      const all = await allTransactions(h.app, key)
      assert.equal(page.total, all.length)
      const sorted = [...all].sort((a, b) =>
        a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0,
      )
      assert.deepEqual(
        all.map((t) => t.created_at),
        sorted.map((t) => t.created_at),
      )
      const second = (
        await h.app.inject({ method: 'GET', url: '/v1/transactions?limit=1&offset=2', headers: bearer(key) })
      ).json()
      assert.equal(second.data[0].id, ids[0])
      const defaults = (
        await h.app.inject({ method: 'GET', url: '/v1/transactions', headers: bearer(key) })
      ).json()
      assert.equal(defaults.limit, 20)
      assert.equal(defaults.data.length, Math.min(20, all.length))
      for (const [query, message] of [
        ['limit=101', 'limit must be between 1 and 100'],
        ['limit=0', 'limit must be between 1 and 100'],
        ['offset=10001', 'offset must be between 0 and 10000'],
      ]) {
        const response = await h.app.inject({
          method: 'GET',
          url: `/v1/transactions?${query}`,
          headers: bearer(key),
        })
        assert.equal(response.statusCode, 400, query)
        assert.equal(response.json().error, message)
      }
      const past = await h.app.inject({
        method: 'GET',
        url: '/v1/transactions?offset=10000',
        headers: bearer(key),
      })
      assert.equal(past.statusCode, 200)
      // A page past the end is empty and still counts the whole list.
      const top = await h.app.inject({
        method: 'GET',
        url: '/v1/transactions?limit=1',
        headers: bearer(key),
      })
      assert.deepEqual(past.json().data, [])
      assert.ok(top.json().total > 0)
      assert.equal(past.json().total, top.json().total)
      const bad = await h.app.inject({
        method: 'GET',
        url: '/v1/transactions?status=done',
        headers: bearer(key),
      })
      assert.equal(bad.statusCode, 400)
      const failed = (
        await h.app.inject({
          method: 'GET',
          url: '/v1/transactions?status=failed_permanent',
          headers: bearer(key),
        })
      ).json()
      assert.equal(failed.total, 0)
      const success = (
        await h.app.inject({
          method: 'GET',
          url: '/v1/transactions?status=success&limit=100',
          headers: bearer(key),
        })
      ).json()
      assert.ok(success.data.every((t: any) => t.status === 'success'))
      assert.equal(success.total, all.filter((t) => t.status === 'success').length)
    })

    void test('get: 404 "transaction not found" for an unknown id, a malformed id and another account', async () => {
      const mine = (await createTransaction(h.app, key, sale(location.id))).json()
      const stranger = (await newAccount(h.app)).key
      for (const [id, who] of [
        [randomUUID(), key],
        ['not-a-uuid', key],
        [mine.id, stranger],
      ] as const) {
        const response = await h.app.inject({
          method: 'GET',
          url: `/v1/transactions/${id}`,
          headers: bearer(who),
        })
        assert.equal(response.statusCode, 404)
        assert.equal(response.json().error, 'transaction not found')
      }
      const list = (
        await h.app.inject({ method: 'GET', url: '/v1/transactions', headers: bearer(stranger) })
      ).json()
      assert.equal(list.total, 0)
      const foreign = await createTransaction(h.app, stranger, sale(location.id))
      assert.equal(foreign.statusCode, 400)
      assert.equal(foreign.json().error, 'location not found')
    })

    void test('cancel: 201 with a cancellation, the original cancelled; twice returns the same; then 409', async () => {
      const original = (await createTransaction(h.app, key, sale(location.id))).json()
      const cancel = () =>
        h.app.inject({
          method: 'POST',
          url: `/v1/transactions/${original.id}/cancel`,
          headers: bearer(key),
          payload: { reason: 'Customer returned items' },
        })
      const first = await cancel()
      assert.equal(first.statusCode, 201, first.body)
      const c = first.json()
      assert.equal(c.type, 'cancellation')
      assert.equal(c.amount, 800)
      assert.equal(c.environment, 'test')
      assert.equal(c.original_transaction_id, original.id)
      assert.deepEqual(c.request_payload, { reason: 'Customer returned items' })
      assert.equal(c.status, 'success')
      assert.match(
        c.response_payload.record,
        new RegExp(`\\|cancellation\\|${c.id}\\|.*\\|${original.fiscal_id}\\|`),
      )
      assert.equal((await getTransaction(h.app, key, original.id)).status, 'cancelled')
      const again = await cancel()
      assert.equal(again.statusCode, 201)
      assert.equal(again.json().id, c.id)
      const ofCancellation = await h.app.inject({
        method: 'POST',
        url: `/v1/transactions/${c.id}/cancel`,
        headers: bearer(key),
        payload: {},
      })
      assert.equal(ofCancellation.statusCode, 409)
      assert.equal(ofCancellation.json().error, 'transaction cannot be cancelled')
      const missing = await h.app.inject({
        method: 'POST',
        url: `/v1/transactions/${randomUUID()}/cancel`,
        headers: bearer(key),
        payload: {},
      })
      assert.equal(missing.statusCode, 404)
      assert.equal(missing.json().error, 'transaction not found')
    })

    void test('concurrent cancels of one transaction create one cancellation', async () => {
      const original = (await createTransaction(h.app, key, sale(location.id))).json()
      const answers = await Promise.all(
        Array.from({ length: 6 }, () =>
          h.app.inject({
            method: 'POST',
            url: `/v1/transactions/${original.id}/cancel`,
            headers: bearer(key),
            payload: {},
          }),
        ),
      )
      assert.deepEqual(new Set(answers.map((a) => a.statusCode)), new Set([201]))
      assert.equal(new Set(answers.map((a) => a.json().id)).size, 1)
    })

    void test('the location chain: numbered without gaps, linked, hashed and signed as documented', async () => {
      const all = (await allTransactions(h.app, key)).filter((t) => t.location_id === location.id)
      assert.ok(all.length > 20)
      verifyChain(all, location.public_key)
    })
  })
}
