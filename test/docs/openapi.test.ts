import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type Harness, startHarness } from '../helpers/harness.ts'

// The OpenAPI document and the API explorer that docs/possystem-api-v2.md and the README point to.
let h: Harness

before(async () => {
  h = await startHarness('sqlite')
})
after(async () => {
  await h.close()
})

void test('/openapi.json is an OpenAPI 3 document listing every route of the POS System API v2', async () => {
  const response = await h.app.inject({ method: 'GET', url: '/openapi.json' })
  assert.equal(response.statusCode, 200)
  assert.match(String(response.headers['content-type']), /^application\/json/)
  const doc = response.json() as { openapi: string; paths: Record<string, Record<string, unknown>> }
  assert.match(doc.openapi, /^3\./)
  const expected: Array<[string, string]> = [
    ['/v2/echo', 'post'],
    ['/v2/sign', 'post'],
    ['/v2/journal/{queueId}/{type}', 'get'],
    ['/v2/journal', 'post'],
    ['/v2/configuration', 'post'],
    ['/health', 'get'],
  ]
  for (const [path, method] of expected) {
    assert.ok(
      doc.paths[path],
      `${path} is missing from the OpenAPI paths: ${Object.keys(doc.paths).join(', ')}`,
    )
    assert.ok(doc.paths[path][method], `${method.toUpperCase()} ${path} is missing`)
  }
})

void test('/v2/configuration is documented with its pairing body and the configuration it answers', async () => {
  const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json()
  const operation = doc.paths['/v2/configuration'].post
  const body = operation.requestBody.content['application/json'].schema
  assert.deepEqual(Object.keys(body.properties).sort(), ['Description', 'cbTerminalID'])
  const answer = operation.responses['200'].content['application/json'].schema
  for (const member of [
    'ftCashBoxId',
    'Country',
    'ftQueues',
    'ftSignaturCreationUnits',
    'Terminals',
    'Product',
    'Version',
    'PosSystemApiVersion',
  ])
    assert.ok(answer.properties[member], `${member} is missing from the 200 schema`)
  assert.deepEqual(Object.keys(answer.properties.ftQueues.items.properties).sort(), [
    'CountryCode',
    'LastReceiptMoment',
    'StartMoment',
    'State',
    'StopMoment',
    'ftCurrentRow',
    'ftQueueId',
    'ftReceiptNumerator',
  ])
  assert.ok(operation.responses['400'] && operation.responses['401'] && operation.responses['409'])
})

void test('/docs answers 200 with an HTML page', async () => {
  const response = await h.app.inject({ method: 'GET', url: '/docs' })
  assert.equal(response.statusCode, 200)
  assert.match(String(response.headers['content-type']), /^text\/html/)
  assert.match(response.body, /<html/i)
})
