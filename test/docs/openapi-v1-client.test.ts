import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import openapiTS, { astToString } from 'openapi-typescript'
import { type Harness, startHarness } from '../helpers/harness.ts'

// A client generated from the live /openapi.json with openapi-typescript must type-check against the
// JSON examples of docs/transactions-api-v1.md: each is compiled, by tsc, as the request or response
// body of the operation named in the comment above it.
const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'transactions-api-v1.md'), 'utf8')
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc')
let h: Harness
let dir: string

before(async () => {
  h = await startHarness('sqlite')
  dir = mkdtempSync(join(tmpdir(), 'fiscalbox-openapi-client-'))
})
after(async () => {
  await h.close()
  rmSync(dir, { recursive: true, force: true })
})

interface Example {
  target: string
  json: string
}

/** Every ```json block of the page with the `<!-- example: … -->` comment right above it. */
function examples(): Example[] {
  const blocks = [...DOC.matchAll(/(?:<!-- example: ([^>]+?) -->\n)?```json\n([\s\S]*?)```/g)]
  return blocks.map((m) => {
    assert.ok(m[1], `a JSON example without an <!-- example: … --> comment: ${m[2]?.slice(0, 80)}`)
    return { target: m[1], json: m[2] as string }
  })
}

/** The generated type an example is a body of: `POST /v1/x request` or `POST /v1/x 201`. */
function typeOf(target: string): string {
  const m = /^(GET|POST|PUT|PATCH|DELETE) (\/\S+) (request|\d{3})$/.exec(target)
  assert.ok(m, `example target "${target}": write METHOD /path request|status`)
  const [, method, path, what] = m as unknown as [string, string, string, string]
  const operation = `paths[${JSON.stringify(path)}][${JSON.stringify(method.toLowerCase())}]`
  if (what === 'request') return `NonNullable<${operation}['requestBody']>['content']['application/json']`
  return `JsonOf<${operation}['responses'][${what}]['content']>`
}

void test('a client generated from /openapi.json type-checks against the examples of the transactions API page', async () => {
  const document = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json()
  writeFileSync(join(dir, 'api.d.ts'), astToString(await openapiTS(document)))
  const checked = examples().filter((e) => !e.target.startsWith('none'))
  assert.ok(checked.length >= 10, `only ${checked.length} examples`)
  const lines = [
    "import type { paths } from './api.js'",
    // An answer's body: application/json, or a problem document for the errors.
    "type JsonOf<C> = C extends { 'application/json': infer B } ? B : C extends { 'application/problem+json': infer P } ? P : never",
    ...checked.map(
      (e, i) => `// ${e.target}\nexport const example${i}: ${typeOf(e.target)} = ${e.json.trim()}`,
    ),
  ]
  writeFileSync(join(dir, 'examples.ts'), `${lines.join('\n')}\n`)
  // The check is not vacuous: a wrong type and an unknown field are refused in the same run.
  writeFileSync(
    join(dir, 'wrong.ts'),
    [
      "import type { paths } from './api.js'",
      `export const a: ${typeOf('POST /v1/transactions request')} = { location_id: 'x', timestamp: 't', items: [], pretax_amount: '1', tax_amount: 0, total_amount: 1, currency: 'EUR', payment_method: 'card' }`,
      `export const b: ${typeOf('POST /v1/locations request')} = { name: 'x', country: 'NL', colour: 'red' }`,
    ].join('\n'),
  )
  const args = [
    '--noEmit',
    '--strict',
    '--target',
    'es2022',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
  ]
  const files = ['examples.ts', 'wrong.ts'].map((name) => join(dir, name))
  const output = await promisify(execFile)(process.execPath, [TSC, ...args, ...files]).then(
    () => '',
    (error: { stdout?: string }) => error.stdout ?? String(error),
  )
  const errors = output.split('\n').filter((line) => line.includes('error TS'))
  assert.deepEqual(
    errors.filter((line) => line.includes('examples.ts')),
    [],
    'tsc refused the examples against the generated client',
  )
  const wrong = errors.filter((line) => line.includes('wrong.ts'))
  assert.equal(wrong.length, 2, output)
  assert.match(wrong[0] ?? '', /wrong\.ts\(2,\d+\).*'string' is not assignable to type 'number'/)
  assert.match(wrong[1] ?? '', /wrong\.ts\(3,\d+\).*'colour' does not exist/)
})
