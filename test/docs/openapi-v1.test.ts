import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type Harness, startHarness } from '../helpers/harness.ts'

// docs/transactions-api-v1.md points to /openapi.json for every route and schema of the v1 surface.
let h: Harness

before(async () => {
  h = await startHarness('sqlite')
})
after(async () => {
  await h.close()
})

void test('/openapi.json lists every route of the transactions API v1 with bearer security', async () => {
  const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
    paths: Record<string, Record<string, { security?: unknown[]; requestBody?: unknown }>>
    components: { securitySchemes: Record<string, { type: string; scheme?: string }> }
  }
  assert.equal(doc.components.securitySchemes.apiKey?.scheme, 'bearer')
  const expected: Array<[string, string]> = [
    ['/v1/accounts', 'post'],
    ['/v1/api-keys', 'post'],
    ['/v1/api-keys', 'get'],
    ['/v1/api-keys/{id}/rotate', 'post'],
    ['/v1/api-keys/{id}', 'delete'],
    ['/v1/locations', 'post'],
    ['/v1/locations', 'get'],
    ['/v1/locations/{id}', 'get'],
    ['/v1/locations/{id}/deactivate', 'post'],
    ['/v1/transactions', 'post'],
    ['/v1/transactions', 'get'],
    ['/v1/transactions/{id}', 'get'],
    ['/v1/transactions/{id}/cancel', 'post'],
    ['/v1/retry-queue/stats', 'get'],
    ['/v1/retry-queue', 'get'],
    ['/v1/retry-queue/{id}', 'get'],
    ['/v1/retry-queue/{id}/retry', 'post'],
    ['/v1/webhooks', 'post'],
    ['/v1/webhooks', 'get'],
    ['/v1/webhooks/{id}', 'delete'],
    ['/v1/webhooks/{id}/deliveries', 'get'],
    ['/v1/certificates', 'post'],
    ['/v1/certificates', 'get'],
    ['/v1/certificates/{id}', 'get'],
    ['/v1/certificates/{id}', 'put'],
    ['/v1/certificates/{id}', 'delete'],
  ]
  for (const [path, method] of expected) {
    const operation = doc.paths[path]?.[method]
    assert.ok(operation, `${method.toUpperCase()} ${path} is missing from the OpenAPI document`)
    if (path === '/v1/accounts') assert.deepEqual(operation.security, [])
    else assert.deepEqual(operation.security, [{ apiKey: [] }], `${path} security`)
  }
  const create = doc.paths['/v1/transactions']?.post as any
  const schema = create.requestBody.content['application/json'].schema
  assert.deepEqual([...schema.required].sort(), [
    'currency',
    'items',
    'location_id',
    'payment_method',
    'pretax_amount',
    'tax_amount',
    'timestamp',
    'total_amount',
  ])
})
