import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { OfficialSpec } from './official-spec.ts'

// The operation list of fiskaly's specification against the one fiscalbox serves (its /openapi.json):
// each operation is served, or docs/sign-de-v2.md lists it under "Differences" with the reason, and so
// is every operation fiscalbox adds.
const DOC = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'sign-de-v2.md'), 'utf8')
const spec = new OfficialSpec()
let h: Harness

before(async () => {
  h = await startHarness('sqlite')
})
after(async () => h.close())

/** `- not served: \`GET /api/v2/…\`: reason` and `- extension: \`…\`: reason` lines of the differences. */
function documented(kind: 'not served' | 'extension'): string[] {
  const differences = DOC.slice(DOC.indexOf('## Differences'))
  return [...differences.matchAll(new RegExp(`^- ${kind}: \`([A-Z]+ /api/v2/\\S+)\`: \\S`, 'gm'))].map(
    (m) => m[1] as string,
  )
}

void test("every operation of fiskaly's specification is served or listed as a difference, and back", async () => {
  const openapi = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
    paths: Record<string, Record<string, unknown>>
  }
  const served = Object.entries(openapi.paths)
    .filter(([path]) => path.startsWith('/api/v2/'))
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
  const specified = spec.operations.map((op) => `${op.method} ${op.path}`)
  // Path parameters are named as in the specification, so the two lists compare as text.
  assert.deepEqual(
    specified.filter((op) => !served.includes(op)).sort(),
    documented('not served').sort(),
    'operations of the specification that fiscalbox does not serve, against docs/sign-de-v2.md',
  )
  assert.deepEqual(
    served.filter((op) => !specified.includes(op)).sort(),
    documented('extension').sort(),
    'operations fiscalbox adds to the specification, against docs/sign-de-v2.md',
  )
})
