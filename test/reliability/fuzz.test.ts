import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { sql } from 'kysely'
import { caseHex, FLAG, type Pos, RECEIPT_CASE, receipt, startedPos } from '../api/support.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'

/**
 * Hostile input to every endpoint: a table of endpoints, each with a valid request that the generators
 * bend (fields replaced, removed or added, text cut or corrupted, invalid UTF-8, deep nesting, oversized
 * bodies, wrong content types, bad credentials, bent paths and query strings). Whatever arrives: never a
 * 5xx, every refusal a problem document naming a field, and nothing written unless the answer is a receipt.
 * A new endpoint is one more line of ENDPOINTS (and its field paths).
 */

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000)
const BODY_LIMIT = 1024 * 1024

interface Endpoint {
  name: string
  method: 'GET' | 'POST'
  /** The valid path and query. */
  url(pos: Pos): string
  /** A valid body (POST). */
  body?(): Record<string, unknown>
  /** Paths into the body the generators attack. */
  fields: Array<Array<string | number>>
  /** Whether a 200 writes a queue item (then exactly one). */
  writes: boolean
}

const ENDPOINTS: Endpoint[] = [
  {
    name: 'POST /v2/sign',
    method: 'POST',
    url: () => '/v2/sign',
    body: () =>
      receipt({
        extra: { cbTerminalID: 'T1' },
        charges: [
          { amount: '10.00', vat: 20 },
          { amount: 2.5, vat: 7 },
        ],
      }),
    fields: [
      ['cbReceiptReference'],
      ['cbReceiptMoment'],
      ['ftReceiptCase'],
      ['cbTerminalID'],
      ['cbPreviousReceiptReference'],
      ['cbChargeItems'],
      ['cbPayItems'],
      ['cbChargeItems', 0],
      ['cbChargeItems', 0, 'Amount'],
      ['cbChargeItems', 0, 'Quantity'],
      ['cbChargeItems', 0, 'VATRate'],
      ['cbChargeItems', 0, 'Description'],
      ['cbChargeItems', 0, 'ftChargeItemCase'],
      ['cbChargeItems', 1, 'Amount'],
      ['cbPayItems', 0, 'Amount'],
      ['cbPayItems', 0, 'ftPayItemCase'],
      ['cbPayItems', 0, 'Description'],
      ['ftQueueID'],
      ['__proto__'],
    ],
    writes: true,
  },
  {
    name: 'POST /v2/echo',
    method: 'POST',
    url: () => '/v2/echo',
    body: () => ({ Message: 'hello' }),
    fields: [['Message'], ['message']],
    writes: false,
  },
  {
    name: 'GET /v2/journal/:queueId/:type',
    method: 'GET',
    url: (pos) => `/v2/journal/${pos.queueId}/QueueItem?after=0&limit=5`,
    fields: [],
    writes: false,
  },
  {
    name: 'POST /v2/journal',
    method: 'POST',
    url: () => '/v2/journal',
    body: () => ({ ftJournalType: 2, From: 0, To: -3 }),
    fields: [['ftJournalType'], ['From'], ['To']],
    writes: false,
  },
  { name: 'GET /health', method: 'GET', url: () => '/health', fields: [], writes: false },
]

const nasty = fc.constantFrom<unknown>(
  '',
  ' ',
  '\u0000',
  '\ud800',
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '1e999',
  '1e-999',
  '0x10',
  '١٢٣',
  '99999999999999999999999',
  '0xFFFFFFFFFFFFFFFF',
  '18446744073709551615',
  '-9223372036854775809',
  '__proto__',
  'null',
  '2024-02-30T10:00:00Z',
  '9999-12-31T23:59:59.9999999Z',
  '\u202egnp.exe',
  'x'.repeat(20_000),
  caseHex('EU', RECEIPT_CASE.pos),
  caseHex('EU', RECEIPT_CASE.start),
  caseHex('EU', FLAG.refund | RECEIPT_CASE.pos),
  '0x4555200000009999',
  '0x4154200000000001',
  Number.MAX_SAFE_INTEGER,
  -1,
  1e308,
  0.1,
  [],
  {},
)

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  nasty,
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.double(),
  fc.integer(),
  fc.bigInt().map(String),
  fc.boolean(),
  fc.constant(null),
)
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: leaf },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), leaf, { maxKeys: 3 }) },
)

type Damage =
  | { kind: 'none' }
  | { kind: 'truncate'; at: number }
  | { kind: 'byte'; at: number; byte: number }
  | { kind: 'invalid-utf8'; at: number; bytes: readonly number[] }
  | { kind: 'nest'; depth: number }
  | { kind: 'oversize' }
  | { kind: 'duplicate-key' }
  | { kind: 'raw'; text: string }

const damage: fc.Arbitrary<Damage> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Damage>({ kind: 'none' }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('byte' as const),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('invalid-utf8' as const),
      at: fc.nat(),
      bytes: fc.constantFrom(
        [0xc3, 0x28],
        [0xff],
        [0xed, 0xa0, 0x80],
        [0xf8, 0x88, 0x80, 0x80, 0x80],
        [0xe2, 0x82],
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('nest' as const), depth: fc.integer({ min: 20, max: 5_000 }) }),
  },
  { weight: 1, arbitrary: fc.constant<Damage>({ kind: 'duplicate-key' }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      text: fc.oneof(
        fc.json({ maxDepth: 3 }),
        fc.string({ maxLength: 40 }),
        fc.constantFrom('', '{', '[]', 'null', '"x"', '1'),
      ),
    }),
  },
)

interface Plan {
  endpoint: number
  mutations: Array<{ path: number; key?: string; value: unknown; remove: boolean }>
  damage: Damage
  contentType: string | undefined
  credentials: 'valid' | 'missing-id' | 'missing-token' | 'bad-token' | 'other-cashbox' | 'garbage'
  operationId: 'fresh' | 'missing' | 'garbage' | 'reused'
  url: 'valid' | 'other-queue' | 'random-queue' | 'bad-type' | 'bad-query' | 'extra-query' | 'traversal'
  query: string
  method: 'valid' | 'other'
  oversize: boolean
}

const header = fc.stringMatching(/^[\x20-\x7e]{0,30}$/)

const plan: fc.Arbitrary<Plan> = fc.record({
  endpoint: fc.nat({ max: ENDPOINTS.length - 1 }),
  mutations: fc.array(
    fc.record({
      path: fc.nat(),
      key: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
      value,
      remove: fc.boolean(),
    }),
    { maxLength: 3 },
  ),
  damage,
  contentType: fc.oneof(
    { weight: 10, arbitrary: fc.constant('application/json') },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'text/plain',
        'application/xml',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=latin1',
        'application/problem+json',
        '',
      ),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: header },
  ),
  credentials: fc.oneof(
    { weight: 12, arbitrary: fc.constant('valid' as const) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('missing-id', 'missing-token', 'bad-token', 'other-cashbox', 'garbage'),
    },
  ),
  operationId: fc.oneof(
    { weight: 10, arbitrary: fc.constant('fresh' as const) },
    { weight: 1, arbitrary: fc.constantFrom('missing', 'garbage', 'reused') },
  ),
  url: fc.oneof(
    { weight: 8, arbitrary: fc.constant('valid' as const) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'other-queue',
        'random-queue',
        'bad-type',
        'bad-query',
        'extra-query',
        'traversal',
      ),
    },
  ),
  query: fc.oneof(
    fc.constantFrom(
      'after=-1',
      'limit=0',
      'limit=99999999',
      'after=NaN',
      'from=yesterday',
      'to=1e999',
      'limit=1e3',
      'after=1&after=2',
      'limit=%00',
    ),
    fc.string({ maxLength: 20 }).map(encodeURIComponent),
  ),
  method: fc.oneof(
    { weight: 30, arbitrary: fc.constant('valid' as const) },
    { weight: 1, arbitrary: fc.constant('other' as const) },
  ),
  oversize: fc.oneof(
    { weight: 400, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
})

function mutate(body: Record<string, unknown>, endpoint: Endpoint, m: Plan['mutations'][number]): void {
  const path =
    m.key !== undefined || endpoint.fields.length === 0
      ? [m.key ?? 'x']
      : (endpoint.fields[m.path % endpoint.fields.length] as Array<string | number>)
  let target: any = body
  for (const key of path.slice(0, -1)) {
    if (target === null || typeof target !== 'object') return
    target = target[key]
  }
  if (target === null || typeof target !== 'object') return
  const last = path.at(-1) as string | number
  if (m.remove) {
    if (Array.isArray(target) && typeof last === 'number') target.splice(last, 1)
    else delete target[last]
  } else {
    Object.defineProperty(target, last, {
      value: m.value,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
}

function damaged(text: string, d: Damage): string | Buffer {
  switch (d.kind) {
    case 'none':
      return text
    case 'truncate':
      return text.slice(0, d.at % (text.length + 1))
    case 'byte': {
      const bytes = Buffer.from(text, 'utf8')
      if (bytes.length > 0) bytes[d.at % bytes.length] = d.byte
      return bytes
    }
    case 'invalid-utf8': {
      const bytes = Buffer.from(text, 'utf8')
      const at = d.at % (bytes.length + 1)
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(d.bytes), bytes.subarray(at)])
    }
    case 'nest':
      return `${'['.repeat(d.depth)}${text}${']'.repeat(d.depth)}`
    case 'oversize':
      return text
    case 'duplicate-key':
      return text.replace(/^\{/, '{"ftReceiptCase":"0x0",')
    case 'raw':
      return d.text
  }
}

/** Every table that a request could write to, counted in one statement. */
async function rowCounts(harness: Harness): Promise<string> {
  const result = await sql<Record<string, number>>`select
    (select count(*) from queue_items) as queue_items,
    (select count(*) from receipt_journal) as receipts,
    (select count(*) from action_journal) as actions,
    (select count(*) from operations) as operations,
    (select count(*) from queues) as queues,
    (select count(*) from cashboxes) as cashboxes,
    (select count(*) from meta) as meta`.execute(harness.runtime.storage.db)
  return JSON.stringify(Object.values(result.rows[0] ?? {}).map(Number))
}

for (const engine of await engines()) {
  describe(`fuzzing every endpoint (${engine})`, () => {
    let harness: Harness
    let pos: Pos
    let other: Pos
    before(async () => {
      harness = await startHarness(engine)
      pos = await startedPos(harness)
      other = await startedPos(harness)
    })
    after(async () => {
      await harness?.close()
    })

    test(`${REQUESTS} hostile requests: zero 5xx, every refusal a problem naming a field, zero rows written`, async (t) => {
      const tally = new Map<string, Map<number, number>>()
      const reusedId = randomUUID()
      let acceptedSigns = 0
      let rowsWrittenByRefusals = 0
      await fc.assert(
        fc.asyncProperty(plan, async (p) => {
          const endpoint = ENDPOINTS[p.endpoint] as Endpoint
          const body = endpoint.body?.()
          if (body) for (const m of p.mutations) mutate(body, endpoint, m)
          let payload: string | Buffer | undefined = body
            ? damaged(JSON.stringify(body) ?? '', p.damage)
            : undefined
          if (p.oversize) payload = `{"Message":"${'x'.repeat(BODY_LIMIT)}"}`
          if (!payload && p.damage.kind === 'raw') payload = p.damage.text
          let url = endpoint.url(pos)
          if (p.url === 'other-queue') url = url.replace(pos.queueId, other.queueId)
          else if (p.url === 'random-queue') url = url.replace(pos.queueId, randomUUID())
          else if (p.url === 'bad-type') url = url.replace('QueueItem', 'Secrets')
          else if (p.url === 'bad-query') url = `${url.split('?')[0]}?${p.query}`
          else if (p.url === 'extra-query') url = `${url}${url.includes('?') ? '&' : '?'}${p.query}`
          else if (p.url === 'traversal') url = url.replace(pos.queueId, `..%2F..%2F${other.queueId}`)
          const headers: Record<string, string | undefined> = {
            'content-type': payload === undefined ? undefined : p.contentType,
            'x-operation-id':
              p.operationId === 'fresh'
                ? randomUUID()
                : p.operationId === 'reused'
                  ? reusedId
                  : p.operationId === 'garbage'
                    ? 'op-1'
                    : undefined,
          }
          if (p.credentials === 'missing-id') headers['x-cashbox-id'] = undefined
          if (p.credentials === 'missing-token') headers['x-cashbox-accesstoken'] = undefined
          if (p.credentials === 'bad-token') headers['x-cashbox-accesstoken'] = randomUUID()
          if (p.credentials === 'other-cashbox') headers['x-cashbox-id'] = other.box.cashboxId
          if (p.credentials === 'garbage') headers['x-cashbox-id'] = 'x'.repeat(300)
          const method = p.method === 'valid' ? endpoint.method : endpoint.method === 'GET' ? 'DELETE' : 'PUT'

          const before = await rowCounts(harness)
          const response = await harness.app.inject({
            method,
            url,
            headers: pos.headers(headers),
            ...(payload === undefined || method === 'GET' ? {} : { payload }),
          })
          const status = response.statusCode
          const byStatus = tally.get(endpoint.name) ?? new Map<number, number>()
          byStatus.set(status, (byStatus.get(status) ?? 0) + 1)
          tally.set(endpoint.name, byStatus)
          const context = `${method} ${url.slice(0, 120)} -> ${status}: ${response.payload.slice(0, 300)}`
          assert.ok(status < 500, `never a 5xx (${context})`)
          const after = await rowCounts(harness)
          if (status === 200 && endpoint.writes && method === endpoint.method) {
            acceptedSigns += 1
            const [items0, , , ops0] = JSON.parse(before) as number[]
            const [items1, , , ops1] = JSON.parse(after) as number[]
            assert.equal(items1, (items0 as number) + 1, `one queue item per receipt (${context})`)
            assert.equal(ops1, (ops0 as number) + 1, `one operation per receipt (${context})`)
            return
          }
          if (after !== before) rowsWrittenByRefusals += 1
          assert.equal(after, before, `nothing written (${context})`)
          if (status >= 400) {
            assert.match(String(response.headers['content-type']), /^application\/problem\+json/, context)
            const problem = response.json()
            assert.equal(problem.status, status, context)
            assert.equal(typeof problem.error, 'string', context)
            assert.ok(typeof problem.message === 'string' && problem.message.length > 0, context)
            assert.ok(
              typeof problem.details?.field === 'string' && problem.details.field.length > 0,
              `names a field (${context})`,
            )
            assert.ok(
              typeof problem.details?.reason === 'string' && problem.details.reason.length > 0,
              context,
            )
            // Another cash box's data never appears in a refusal.
            assert.ok(!response.payload.includes(other.box.accessToken), context)
          }
        }),
        { numRuns: REQUESTS, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) },
      )
      const figures = Object.fromEntries([...tally].map(([name, s]) => [name, Object.fromEntries(s)]))
      t.diagnostic(
        `fuzz/${engine}: ${REQUESTS} requests, statuses per endpoint ${JSON.stringify(figures)}; ${acceptedSigns} receipts accepted; 0 5xx, ${rowsWrittenByRefusals} refusals that wrote rows`,
      )
      // The generators reach both sides of every endpoint, or the property says little.
      for (const endpoint of ENDPOINTS) {
        const statuses = tally.get(endpoint.name) ?? new Map()
        assert.ok((statuses.get(200) ?? 0) > 0, `${endpoint.name}: no request was accepted`)
        assert.ok(
          [...statuses.keys()].some((s) => s >= 400) || endpoint.name === 'GET /health',
          `${endpoint.name}: nothing was refused`,
        )
      }
    })
  })
}
