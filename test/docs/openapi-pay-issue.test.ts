import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type Harness, startHarness } from '../helpers/harness.ts'

let h: Harness
before(async () => {
  h = await startHarness('sqlite')
})
after(async () => {
  await h.close()
})

void test('/openapi.json documents /v2/pay, /v2/issue and the public receipt documents from their schemas', async () => {
  const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
    paths: Record<string, Record<string, any>>
  }
  const expected: Array<[string, string]> = [
    ['/v2/pay', 'post'],
    ['/v2/pay/{operationId}', 'get'],
    ['/v2/issue', 'post'],
    ['/v2/issue/{queueId}/{queueItemId}/delivered', 'get'],
    ['/v2/issue/{queueId}/{queueItemId}/delivered', 'post'],
    ['/r/{id}', 'get'],
    ['/r/{id}/receipt.pdf', 'get'],
    ['/r/{id}/receipt.txt', 'get'],
    ['/r/{id}/receipt.escpos', 'get'],
    ['/r/{id}/delivered', 'post'],
  ]
  for (const [path, method] of expected)
    assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is missing`)
  const pay = doc.paths['/v2/pay']?.post
  const body = pay.requestBody.content['application/json'].schema
  assert.deepEqual(body.properties.Action.anyOf.map((a: any) => a.const ?? a.enum?.[0]).sort(), [
    'cancel',
    'payment',
    'pre_authorization',
    'refund',
  ])
  for (const status of ['200', '202', '402', '502'])
    assert.ok(pay.responses[status], `pay answer ${status} undocumented`)
  assert.deepEqual(doc.paths['/r/{id}']?.get.security, [], 'the document links need no credentials')
})
