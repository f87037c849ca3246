import assert from 'node:assert/strict'
import { test } from 'node:test'
import { OfficialSpec, toJsonSchema } from './official-spec.ts'

// The checker the conformance suite relies on: it must refuse what the specification refuses.
const spec = new OfficialSpec()
const json = (body: unknown) => ({ status: 200, contentType: 'application/json; charset=utf-8', body })

void test('OpenAPI 3.0 specifics: nullable, discriminator, $ref siblings, keyword-named properties', () => {
  assert.deepEqual(toJsonSchema({ type: 'string', nullable: true, enum: ['A'] }), {
    type: ['string', 'null'],
    enum: ['A', null],
  })
  assert.deepEqual(toJsonSchema({ allOf: [{ $ref: '#/components/schemas/X' }], nullable: true }), {
    anyOf: [
      { allOf: [{ $ref: 'https://fiskaly.test/sign-de-v2.1.35.json#/definitions/X' }] },
      { type: 'null' },
    ],
  })
  assert.deepEqual(
    toJsonSchema({ oneOf: [{ type: 'object' }], discriminator: { propertyName: 'kind' }, example: {} }),
    { oneOf: [{ type: 'object' }] },
  )
  assert.deepEqual(toJsonSchema({ $ref: '#/components/schemas/X', description: 'ignored' }), {
    $ref: 'https://fiskaly.test/sign-de-v2.1.35.json#/definitions/X',
  })
  assert.deepEqual(toJsonSchema({ properties: { example: { type: 'string', example: 'x' } } }), {
    properties: { example: { type: 'string' } },
  })
})

void test('the checker refuses what the specification refuses', () => {
  const createTss = spec.operationOf('PUT', '/api/v2/tss/0d6c2d3e-1b1e-4f0a-9c53-5b9e6a6c8f11')
  assert.equal(createTss?.operationId, 'createTss')
  const problems = spec.check(createTss, json({ supported_update_variants: ['SIGNED'] }))
  assert.ok(
    problems.some((p) => p.startsWith('/supported_update_variants must be string')),
    problems.join('\n'),
  )
  assert.ok(
    problems.some((p) => p.includes('"missingProperty":"admin_puk"')),
    problems.join('\n'),
  )
  assert.deepEqual(spec.check(createTss, { ...json({}), status: 201 }), [
    'status 201 is not documented for createTss',
  ])
  assert.match(
    spec.check(createTss, { ...json({}), contentType: 'text/plain' })[0] ?? '',
    /content type text\/plain/,
  )
  // an error the operation does not list still has the documented error body
  assert.deepEqual(
    spec.check(createTss, {
      status: 400,
      contentType: 'application/json',
      body: { status_code: 400, error: 'Bad Request', code: 'E_VALIDATION', message: 'metadata: x' },
    }),
    [],
  )
  assert.notDeepEqual(
    spec.check(createTss, { status: 400, contentType: 'application/json', body: { error: 'x' } }),
    [],
  )
})

void test('signature.counter: the Known issues allow a string or a number, nothing else', () => {
  const op = spec.operationOf('GET', '/api/v2/tss/0d6c2d3e-1b1e-4f0a-9c53-5b9e6a6c8f11/tx/5')
  assert.equal(op?.operationId, 'retrieveTransaction')
  const counterProblems = (counter: unknown) =>
    spec
      .check(
        op,
        json({ signature: { value: 'AA==', algorithm: 'ecdsa-plain-SHA256', counter, public_key: 'x' } }),
      )
      .filter((p) => p.startsWith('/signature'))
  assert.deepEqual(counterProblems(12), [])
  assert.deepEqual(counterProblems('12'), [])
  assert.notDeepEqual(counterProblems(true), [])
  assert.notDeepEqual(counterProblems(-1), [])
})
