import assert from 'node:assert/strict'
import { createHash, createPublicKey, randomUUID, verify } from 'node:crypto'
import type { FastifyInstance } from 'fastify'

/**
 * Shared vocabulary of the transactions API v1 suites. The chain and signature checks are written from
 * docs/transactions-api-v1.md ("Generic fiscal records"), not from the producer's code.
 */
export const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

export async function newAccount(app: FastifyInstance, email = `${randomUUID()}@example.com`) {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/accounts',
    payload: { name: 'Café Central', billing_email: email },
  })
  assert.equal(response.statusCode, 201, response.body)
  const body = response.json()
  return { key: body.api_key as string, accountId: body.account.id as string, body }
}

/** A new account with a live key beside its first (test) key; the server must have live keys enabled. */
export async function newLiveAccount(app: FastifyInstance) {
  const account = await newAccount(app)
  const response = await app.inject({
    method: 'POST',
    url: '/v1/api-keys',
    headers: bearer(account.key),
    payload: { environment: 'live', name: 'till' },
  })
  assert.equal(response.statusCode, 201, response.body)
  return { key: response.json().api_key as string, testKey: account.key, accountId: account.accountId }
}

/** POST /v1/locations as sent, whatever the answer (a refusal included). */
export const postLocation = (
  app: FastifyInstance,
  key: string,
  country: string,
  countryConfig: Record<string, unknown>,
  name = 'Main street',
) =>
  app.inject({
    method: 'POST',
    url: '/v1/locations',
    headers: bearer(key),
    payload: { name, country, country_config: countryConfig },
  })

export async function newLocation(
  app: FastifyInstance,
  key: string,
  country = 'EU',
  countryConfig: Record<string, unknown> = {},
) {
  const response = await postLocation(app, key, country, countryConfig)
  assert.equal(response.statusCode, 201, response.body)
  return response.json() as { id: string; public_key: string; country: string }
}

export const SPAIN = { system: 'verifactu', nif: 'B12345674', certificate_id: 'cert-1' }

/** The example sale of docs/transactions-api-v1.md: 2 x 2.50 + 3.00 at 21 %, total 8.00. */
export function sale(locationId: string, overrides: Record<string, unknown> = {}) {
  return {
    location_id: locationId,
    timestamp: '2026-03-09T14:30:00Z',
    items: [
      { description: 'Café con leche', quantity: 2, unit_price: 2.5, tax_rate: 0.21 },
      { description: 'Tostada', quantity: 1, unit_price: 3.0, tax_rate: 0.21 },
    ],
    pretax_amount: 6.61,
    tax_amount: 1.39,
    total_amount: 8.0,
    currency: 'EUR',
    payment_method: 'card',
    ...overrides,
  }
}

export async function createTransaction(
  app: FastifyInstance,
  key: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url: '/v1/transactions',
    headers: { ...bearer(key), ...headers },
    payload: body as object,
  })
}

export async function getTransaction(app: FastifyInstance, key: string, id: string) {
  const response = await app.inject({ method: 'GET', url: `/v1/transactions/${id}`, headers: bearer(key) })
  assert.equal(response.statusCode, 200, response.body)
  return response.json()
}

/** Every transaction of the account (pages of 100). */
export async function allTransactions(app: FastifyInstance, key: string): Promise<any[]> {
  const all: any[] = []
  for (let offset = 0; ; offset += 100) {
    const response = await app.inject({
      method: 'GET',
      url: `/v1/transactions?limit=100&offset=${offset}`,
      headers: bearer(key),
    })
    assert.equal(response.statusCode, 200, response.body)
    const page = response.json()
    all.push(...page.data)
    if (page.data.length < 100) return all
  }
}

const sha256 = (previousHash: string, text: string) =>
  createHash('sha256').update(Buffer.from(previousHash, 'hex')).update(text, 'utf8').digest('hex')

/**
 * Checks one location's chain from the records in response_payload: numbers 1..n without gaps, each
 * previous_hash is the hash before it, each hash is SHA-256(previous || text), each signature verifies with
 * the location's public key, and the record text carries the transaction's own fields.
 */
export function verifyChain(transactions: any[], publicKeySpki: string, environment = 'test'): void {
  const key = createPublicKey({ key: Buffer.from(publicKeySpki, 'base64'), format: 'der', type: 'spki' })
  const records = transactions
    .map((t) => ({
      t,
      r: (typeof t.response_payload.record === 'object'
        ? t.response_payload.record
        : t.response_payload) as any,
    }))
    .sort((a, b) => a.r.sequence - b.r.sequence)
  let previous = '0'.repeat(64)
  records.forEach(({ t, r }, i) => {
    assert.equal(r.sequence, i + 1, 'chain numbers have no gaps')
    assert.equal(r.previous_hash, previous, `record ${r.sequence} chains to the one before`)
    const fields = String(r.record).split('|')
    assert.equal(fields[0], 'FBT1')
    assert.equal(fields[1], t.location_id)
    assert.equal(fields[2], environment)
    assert.equal(Number(fields[3]), r.sequence)
    assert.equal(fields[4], t.type)
    assert.equal(fields[5], t.id)
    assert.equal(Number(fields[7]), t.amount)
    assert.equal(fields[10], previous)
    assert.equal(r.hash, sha256(previous, r.record), `record ${r.sequence} hash`)
    assert.ok(
      verify(
        'sha256',
        Buffer.from(r.record, 'utf8'),
        { key, dsaEncoding: 'ieee-p1363' },
        Buffer.from(r.signature, 'base64url'),
      ),
      `record ${r.sequence} signature`,
    )
    previous = r.hash
  })
}

/** Polls (through the API) until `done` holds; the outbox works in the background. */
export async function eventually<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  limitMs = 30_000,
): Promise<T> {
  const start = Date.now()
  for (;;) {
    const value = await probe()
    if (done(value)) return value
    if (Date.now() - start > limitMs)
      assert.fail(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
