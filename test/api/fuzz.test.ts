import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { attackAt, RECEIPT_FIELD_PATHS } from '../helpers/hostile-json.ts'
import { caseHex, FLAG, type Pos, RECEIPT_CASE, receipt, startedPos } from './support.ts'

/**
 * Hostile /v2/sign requests: a valid receipt with a few of its fields replaced, removed or added, its text
 * cut or corrupted, and its headers bent. Whatever arrives, the server must answer with a 2xx or with a
 * problem document that names a field, never with a 5xx, and must write nothing for what it rejects.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 300)

/** Roots a problem's details.field may name. */
const FIELD_ROOTS = new Set([
  'body',
  'content-type',
  'cbReceiptReference',
  'cbReceiptMoment',
  'cbTerminalID',
  'ftReceiptCase',
  'ftReceiptCaseData',
  'cbCustomer',
  'cbChargeItems',
  'cbPayItems',
  'cbPreviousReceiptReference',
  'ftCashBoxID',
  'ftPosSystemId',
  'ftQueueID',
  'headers.x-operation-id',
  'headers.x-operation-lifetime',
  'headers.x-cashbox-id',
  'headers.x-cashbox-accesstoken',
  'headers.x-possystem-id',
  'headers.x-terminal-id',
])

const fieldRoot = (field: string): string =>
  field.startsWith('headers.') ? field : (field.split(/[.[]/)[0] ?? field)

const nastyStrings = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '+1',
  '1e999',
  '1e-999',
  '0x10',
  '0b1',
  '1_000',
  '١٢٣',
  '12.50',
  '  7.5  ',
  '1.0000001',
  '99999999999999999999999',
  '0x4555200000000001',
  '0xFFFFFFFFFFFFFFFF',
  '18446744073709551615',
  '__proto__',
  'null',
  'true',
  '2024-02-30T10:00:00Z',
  '9999-12-31T23:59:59.9999999Z',
  '0000-01-01T00:00:00Z',
  '2024-03-29T10:15:00.000+14:00',
  '\u202egnp.exe',
  '💶'.repeat(50),
  'x'.repeat(5000),
)

/** Values that are valid somewhere, so that mutations also produce accepted receipts. */
const plausible = fc.constantFrom<unknown>(
  caseHex('EU', RECEIPT_CASE.pos),
  caseHex('EU', RECEIPT_CASE.zero),
  caseHex('EU', RECEIPT_CASE.daily),
  caseHex('EU', RECEIPT_CASE.start),
  caseHex('EU', FLAG.training | RECEIPT_CASE.pos),
  caseHex('EU', FLAG.refund | RECEIPT_CASE.pos),
  1,
  0,
  '0',
  'prev-1',
  ['prev-1', 'prev-2'],
  [],
  { Quantity: 1, Description: 'x', Amount: 0, VATRate: 0 },
)

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  nastyStrings,
  plausible,
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
)

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: leaf },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), leaf, { maxKeys: 4 }) },
)

type Mutation = { path: Array<string | number>; value: unknown; remove: boolean }

const mutation: fc.Arbitrary<Mutation> = fc.record({
  path: fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...RECEIPT_FIELD_PATHS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((k) => [k]) },
  ),
  value: hostileValue,
  remove: fc.boolean(),
})

/** Text-level damage applied after serialization. */
type TextDamage =
  | { kind: 'none' }
  | { kind: 'truncate'; at: number }
  | { kind: 'byte'; at: number; byte: number }
  | { kind: 'bignumber'; digits: string }
  | { kind: 'longfraction'; digits: string }
  | { kind: 'duplicate-key' }
  | { kind: 'escape'; at: number; escape: string }
  /** into every free-text value at once */
  | { kind: 'escape-all'; escape: string }
  | { kind: 'raw'; text: string }

const ESCAPES = ['\\u0000', '\\ud800', '\\udfff', '\\\\', '\\"', '\\n', '\\u202e'] as const

const textDamage: fc.Arbitrary<TextDamage> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('byte' as const),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('bignumber' as const),
      digits: fc.stringMatching(/^-?[1-9]\d{15,24}$/),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('longfraction' as const),
      digits: fc.stringMatching(/^\d{10,30}$/),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'duplicate-key' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('escape' as const),
      at: fc.nat(),
      escape: fc.constantFrom(...ESCAPES),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('escape-all' as const), escape: fc.constantFrom(...ESCAPES) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      text: fc.oneof(
        fc.json({ maxDepth: 3 }),
        fc.string({ maxLength: 50 }),
        fc.constantFrom('', '{}', '[]', '{"a":'),
      ),
    }),
  },
)

const headerText = fc.stringMatching(/^[\x20-\x7e]{0,40}$/)

interface HeaderPlan {
  /** 'fresh': a new UUID for every request, so that no two runs share an operation. */
  operationId: 'fresh' | string | undefined
  lifetime: string | undefined
  contentType: string | undefined
  cashboxId: 'valid' | 'missing' | 'random' | string
  token: 'valid' | 'missing' | string
}

const headerPlan: fc.Arbitrary<HeaderPlan> = fc.record({
  operationId: fc.oneof(
    { weight: 8, arbitrary: fc.constant('fresh') },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: headerText },
  ),
  lifetime: fc.oneof(
    { weight: 8, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.stringMatching(/^\d{1,7}$/) },
    { weight: 1, arbitrary: headerText },
  ),
  contentType: fc.oneof(
    { weight: 12, arbitrary: fc.constant('application/json') },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        'application/json; charset=utf-8',
        'application/JSON',
        'application/problem+json',
        'application/vnd.pos+json',
        'text/plain',
        'text/json',
        'application/octet-stream',
        '',
        'application/json; charset=latin1',
      ),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: headerText },
  ),
  cashboxId: fc.oneof(
    { weight: 14, arbitrary: fc.constant('valid') },
    { weight: 1, arbitrary: fc.constantFrom('missing', 'random') },
    { weight: 1, arbitrary: headerText },
  ),
  token: fc.oneof(
    { weight: 14, arbitrary: fc.constant('valid') },
    { weight: 1, arbitrary: fc.constant('missing') },
    { weight: 1, arbitrary: headerText },
  ),
})

interface Scenario {
  mutations: Mutation[]
  damage: TextDamage
  headers: HeaderPlan
}

const CLEAN_HEADERS: HeaderPlan = {
  operationId: 'fresh',
  lifetime: undefined,
  contentType: 'application/json',
  cashboxId: 'valid',
  token: 'valid',
}
const NO_DAMAGE: TextDamage = { kind: 'none' }

/** Mostly one kind of hostility at a time, so that one rejection does not hide another. */
const scenario: fc.Arbitrary<Scenario> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.constant<Scenario>({ mutations: [], damage: NO_DAMAGE, headers: CLEAN_HEADERS }),
  },
  {
    weight: 4,
    arbitrary: fc
      .array(mutation, { minLength: 1, maxLength: 3 })
      .map((mutations) => ({ mutations, damage: NO_DAMAGE, headers: CLEAN_HEADERS })),
  },
  { weight: 4, arbitrary: textDamage.map((damage) => ({ mutations: [], damage, headers: CLEAN_HEADERS })) },
  { weight: 2, arbitrary: headerPlan.map((headers) => ({ mutations: [], damage: NO_DAMAGE, headers })) },
  {
    weight: 1,
    arbitrary: fc.record({
      mutations: fc.array(mutation, { maxLength: 3 }),
      damage: textDamage,
      headers: headerPlan,
    }),
  },
)

function damage(text: string, d: TextDamage): string | Buffer {
  switch (d.kind) {
    case 'none':
      return text
    case 'truncate':
      return text.slice(0, d.at % (text.length + 1))
    case 'byte': {
      const bytes = Buffer.from(text, 'utf8')
      bytes[d.at % bytes.length] = d.byte
      return bytes
    }
    case 'bignumber':
      return text.replace(/"Amount":[^,}]+/, `"Amount":${d.digits}`)
    case 'longfraction':
      return text.replace(/"Amount":[^,}]+/, `"Amount":0.${d.digits}`)
    case 'duplicate-key':
      return text.replace(/^\{/, '{"cbReceiptReference":"first",')
    case 'escape': {
      // Into the start of one of the string values, chosen by `at`.
      const starts = [...text.matchAll(/:"/g)].map((m) => (m.index ?? 0) + 2)
      if (starts.length === 0) return text
      const at = starts[d.at % starts.length] as number
      return text.slice(0, at) + d.escape + text.slice(at)
    }
    case 'escape-all':
      // Into every free-text value: the reference, the terminal id and the descriptions.
      return text.replace(/"(cbReceiptReference|cbTerminalID|Description)":"/g, `$&${d.escape}`)
    case 'raw':
      return d.text
  }
}

for (const engine of await engines()) {
  describe(`fuzzing /v2/sign (${engine})`, () => {
    let harness: Harness
    let pos: Pos
    before(async () => {
      harness = await startHarness(engine)
      pos = await startedPos(harness)
    })
    after(async () => {
      await harness?.close()
    })

    test(`${RUNS} hostile requests: never a 5xx, problems name a field, rejected requests write nothing`, async (t) => {
      let lastRow = 1
      let lastNumber = 1
      let lastAction = (await pos.journal('ActionJournal')).at(-1)?.Number ?? 0
      const statuses = new Map<number, number>()

      const newer = async (type: 'QueueItem' | 'ReceiptJournal' | 'ActionJournal', after: number) => {
        const reply = await pos.get(pos.journalUrl(type, `?after=${after}&limit=100`))
        assert.equal(reply.status, 200, reply.payload)
        return reply.json() as any[]
      }

      /** The cursor of the newest entry at or after `from`. */
      const newest = async (
        type: 'QueueItem' | 'ReceiptJournal' | 'ActionJournal',
        key: string,
        from: number,
      ) => {
        let last = from
        for (let page = await newer(type, last); page.length > 0; page = await newer(type, last)) {
          last = page.at(-1)[key]
        }
        return last
      }
      const resync = async () => {
        lastRow = await newest('QueueItem', 'ftQueueRow', lastRow)
        lastNumber = await newest('ReceiptJournal', 'ftReceiptNumber', lastNumber)
        lastAction = await newest('ActionJournal', 'Number', lastAction)
      }

      const check = async (response: Awaited<ReturnType<typeof pos.app.inject>>, raw: string | Buffer) => {
        const status = response.statusCode
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
        const context = `status ${status}: ${response.payload.slice(0, 400)}`
        assert.ok(status < 500, `never a 5xx (${context})`)

        if (status === 200) {
          assert.match(String(response.headers['content-type']), /^application\/json/)
          const answer = response.json()
          assert.equal(answer.ftQueueRow, lastRow + 1, `accepted requests take the next row (${context})`)
          const items = await newer('QueueItem', lastRow)
          assert.equal(items.length, 1, `one queue item per accepted request (${context})`)
          const item = items[0]
          assert.equal(item.ftQueueItemId, answer.ftQueueItemID, context)
          assert.deepEqual(item.response, answer)
          // The stored columns keep exactly what was sent.
          assert.equal(item.cbReceiptReference, item.request.cbReceiptReference, context)
          assert.equal(item.cbTerminalID, item.request.cbTerminalID ?? null, context)
          assert.equal(answer.cbReceiptReference, item.request.cbReceiptReference, context)
          assert.ok((await newer('ReceiptJournal', lastNumber)).length <= 1)
          return
        }

        assert.ok([400, 401, 413, 415].includes(status), `unexpected status (${context})`)
        assert.match(String(response.headers['content-type']), /^application\/problem\+json/, context)
        const problem = response.json()
        assert.equal(problem.status, status)
        assert.equal(typeof problem.error, 'string')
        assert.ok(typeof problem.message === 'string' && problem.message.length > 0, context)
        if (status === 401) {
          assert.equal(problem.error, 'unauthorized')
        } else {
          assert.equal(typeof problem.details?.field, 'string', `details.field is missing (${context})`)
          assert.ok(problem.details.field.length > 0)
          assert.ok(
            FIELD_ROOTS.has(fieldRoot(problem.details.field)),
            `details.field names a field of the request (${context})`,
          )
          assert.ok(typeof problem.details.reason === 'string' && problem.details.reason.length > 0)
          if (/not valid JSON/.test(problem.details.reason)) {
            const text = typeof raw === 'string' ? raw : raw.toString('utf8')
            assert.throws(() => JSON.parse(text), `valid JSON was called invalid (${context})`)
          }
        }
        assert.deepEqual(await newer('QueueItem', lastRow), [], `no queue item written (${context})`)
        assert.deepEqual(await newer('ReceiptJournal', lastNumber), [], `no receipt written (${context})`)
        assert.deepEqual(await newer('ActionJournal', lastAction), [], `no action written (${context})`)
      }

      await fc.assert(
        fc.asyncProperty(scenario, async ({ mutations, damage: textDamageSpec, headers: plan }) => {
          const body = receipt({
            extra: { cbTerminalID: 'T1' },
            charges: [
              { amount: '10.00', vat: 20 },
              { amount: 2.5, vat: 7 },
            ],
          })
          for (const m of mutations) attackAt(body, m.path, m.value, m.remove)
          const raw = damage(JSON.stringify(body) ?? '', textDamageSpec)
          const headers: Record<string, string | undefined> = {
            'x-operation-id': plan.operationId === 'fresh' ? randomUUID() : plan.operationId,
            'x-operation-lifetime': plan.lifetime,
            'content-type': plan.contentType,
          }
          if (plan.cashboxId === 'missing') headers['x-cashbox-id'] = undefined
          else if (plan.cashboxId === 'random') headers['x-cashbox-id'] = randomUUID()
          else if (plan.cashboxId !== 'valid') headers['x-cashbox-id'] = plan.cashboxId
          if (plan.token === 'missing') headers['x-cashbox-accesstoken'] = undefined
          else if (plan.token !== 'valid') headers['x-cashbox-accesstoken'] = plan.token

          const response = await pos.app.inject({
            method: 'POST',
            url: '/v2/sign',
            headers: pos.headers(headers),
            payload: raw,
          })
          try {
            await check(response, raw)
          } finally {
            // Whatever failed, the next run (and fast-check's shrinking) starts from what is really stored.
            await resync()
          }
        }),
        {
          numRuns: RUNS,
          includeErrorInReport: true,
          ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}),
        },
      )
      t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
      // The generators must reach both sides, or the property says little.
      assert.ok(
        (statuses.get(200) ?? 0) > RUNS / 20,
        `too few accepted requests: ${JSON.stringify([...statuses])}`,
      )
      assert.ok(
        (statuses.get(400) ?? 0) > RUNS / 5,
        `too few rejected requests: ${JSON.stringify([...statuses])}`,
      )
      const items = await pos.journal('QueueItem')
      assert.equal(items.length, lastRow, 'every accepted request and nothing else is in the queue')
    })
  })
}
