import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { allTransactions, createTransaction, newAccount, newLocation, sale } from './support.ts'

// Arbitrary changes to a valid create body: every answer is 201 or a 400 problem naming a field, never a
// 5xx, and a refused body writes nothing.
const value = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }),
  fc.string({ maxLength: 12 }),
  fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
)
const FIELDS = [
  'location_id',
  'timestamp',
  'items',
  'pretax_amount',
  'tax_amount',
  'total_amount',
  'currency',
  'payment_method',
  'customer_context',
] as const

for (const engine of await engines()) {
  void describe(`create fuzz (${engine})`, () => {
    let h: Harness
    let key: string
    let location: string
    before(async () => {
      h = await startHarness(engine, { v1: { rateLimit: { perMinute: 1_000_000, burst: 1_000_000 } } })
      key = (await newAccount(h.app)).key
      location = (await newLocation(h.app, key)).id
    })
    after(async () => {
      await h.close()
    })

    void test('201 or a 400 naming a field, never 5xx; refusals write nothing', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.dictionary(fc.constantFrom(...FIELDS), value, { minKeys: 1, maxKeys: 3 }),
          async (changes) => {
            const before = (await allTransactions(h.app, key)).length
            const body = { ...sale(location), ...changes }
            const response = await createTransaction(h.app, key, JSON.parse(JSON.stringify(body)))
            assert.ok([201, 400].includes(response.statusCode), `${response.statusCode}: ${response.body}`)
            const after = (await allTransactions(h.app, key)).length
            if (response.statusCode === 400) {
              const problem = response.json()
              assert.equal(typeof problem.error, 'string')
              assert.ok(problem.details?.field, response.body)
              assert.equal(after, before)
            } else {
              assert.equal(after, before + 1)
            }
          },
        ),
        { numRuns: engine === 'sqlite' ? 150 : 60 },
      )
    })
  })
}
