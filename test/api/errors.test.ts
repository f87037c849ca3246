import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import {
  assertNothingWritten,
  assertProblem,
  caseHex,
  FLAG,
  type Pos,
  RECEIPT_CASE,
  type Reply,
  receipt,
  startedPos,
} from './support.ts'

type Body = Record<string, any>

/** A valid receipt changed by `edit`: each case breaks exactly one thing. */
const edited = (edit: (body: Body) => void): Body => {
  const body = receipt({
    charges: [
      { amount: 10, vat: 20 },
      { amount: 5, vat: 7 },
    ],
  })
  edit(body)
  return body
}

interface BadRequest {
  name: string
  status: number
  /** The field the problem must name; undefined for problems that concern no field of the request. */
  field?: string | RegExp
  send(pos: Pos, harness: Harness): Promise<Reply>
}

const bodyCase = (name: string, field: string | RegExp, edit: (body: Body) => void): BadRequest => ({
  name,
  status: 400,
  field,
  send: (pos) => pos.sign(edited(edit)),
})

const amountCase = (value: unknown, label = JSON.stringify(value)) =>
  bodyCase(`Amount ${label}`, 'cbChargeItems[0].Amount', (b) => {
    b.cbChargeItems[0].Amount = value
  })

const CASES: BadRequest[] = [
  bodyCase('missing cbReceiptReference', 'cbReceiptReference', (b) => delete b.cbReceiptReference),
  bodyCase('empty cbReceiptReference', 'cbReceiptReference', (b) => (b.cbReceiptReference = '')),
  bodyCase('blank cbReceiptReference', 'cbReceiptReference', (b) => (b.cbReceiptReference = '   ')),
  bodyCase('numeric cbReceiptReference', 'cbReceiptReference', (b) => (b.cbReceiptReference = 42)),
  bodyCase(
    'cbReceiptReference with U+0000',
    'cbReceiptReference',
    (b) => (b.cbReceiptReference = 'a\u0000b'),
  ),
  bodyCase('cbReceiptReference with a lone surrogate', 'cbReceiptReference', (b) => {
    b.cbReceiptReference = 'a\ud800b'
  }),
  bodyCase('cbTerminalID with a lone surrogate', 'cbTerminalID', (b) => (b.cbTerminalID = '\udc00')),
  bodyCase('cbTerminalID with U+0000', 'cbTerminalID', (b) => (b.cbTerminalID = 'T\u00001')),
  bodyCase('missing cbReceiptMoment', 'cbReceiptMoment', (b) => delete b.cbReceiptMoment),
  bodyCase('missing cbChargeItems', 'cbChargeItems', (b) => delete b.cbChargeItems),
  bodyCase('missing cbPayItems', 'cbPayItems', (b) => delete b.cbPayItems),
  bodyCase('cbChargeItems not an array', 'cbChargeItems', (b) => (b.cbChargeItems = { Amount: 1 })),
  bodyCase('a charge item that is null', 'cbChargeItems[1]', (b) => (b.cbChargeItems[1] = null)),
  bodyCase('charge item without Amount', 'cbChargeItems[0].Amount', (b) => delete b.cbChargeItems[0].Amount),
  bodyCase('charge item without Description', 'cbChargeItems[1].Description', (b) => {
    delete b.cbChargeItems[1].Description
  }),
  bodyCase('pay item without Amount', 'cbPayItems[0].Amount', (b) => delete b.cbPayItems[0].Amount),
  amountCase('abc'),
  amountCase(true),
  amountCase(null),
  amountCase({}),
  amountCase([1]),
  amountCase('NaN'),
  amountCase('Infinity'),
  amountCase('-Infinity'),
  amountCase('1e400'),
  amountCase('0x10'),
  amountCase('1,50'),
  amountCase(''),
  amountCase('   '),
  amountCase('1.0000001', '"1.0000001" (7 decimals)'),
  amountCase('10000000000001', '"10000000000001" (out of range)'),
  bodyCase('pay Amount "abc"', 'cbPayItems[0].Amount', (b) => (b.cbPayItems[0].Amount = 'abc')),
  bodyCase(
    'second charge VATRate "x"',
    'cbChargeItems[1].VATRate',
    (b) => (b.cbChargeItems[1].VATRate = 'x'),
  ),
  bodyCase('VATRate 101', 'cbChargeItems[0].VATRate', (b) => (b.cbChargeItems[0].VATRate = 101)),
  bodyCase('VATRate -1', 'cbChargeItems[0].VATRate', (b) => (b.cbChargeItems[0].VATRate = -1)),
  bodyCase('Quantity "many"', 'cbChargeItems[0].Quantity', (b) => (b.cbChargeItems[0].Quantity = 'many')),
  bodyCase('charge total differs from pay total', 'cbChargeItems', (b) => (b.cbPayItems[0].Amount = 14.99)),
  bodyCase('pay items missing', 'cbChargeItems', (b) => (b.cbPayItems = [])),
  bodyCase('ftReceiptCase "0xZZ"', 'ftReceiptCase', (b) => (b.ftReceiptCase = '0xZZ')),
  bodyCase('ftReceiptCase of another country (DE)', 'ftReceiptCase', (b) => {
    b.ftReceiptCase = caseHex('DE', RECEIPT_CASE.pos)
  }),
  bodyCase('ftReceiptCase of version 1', 'ftReceiptCase', (b) => (b.ftReceiptCase = '0x4555100000000001')),
  bodyCase(
    'ftReceiptCase of an unknown case',
    'ftReceiptCase',
    (b) => (b.ftReceiptCase = '0x4555200000002999'),
  ),
  bodyCase('ftReceiptCase above 64 bits', 'ftReceiptCase', (b) => (b.ftReceiptCase = '18446744073709551616')),
  bodyCase(
    'ftReceiptCase with 17 hex digits',
    'ftReceiptCase',
    (b) => (b.ftReceiptCase = '0x45552000000000001'),
  ),
  bodyCase('ftReceiptCase -1', 'ftReceiptCase', (b) => (b.ftReceiptCase = -1)),
  bodyCase('ftReceiptCase 1.5', 'ftReceiptCase', (b) => (b.ftReceiptCase = 1.5)),
  bodyCase('ftReceiptCase true', 'ftReceiptCase', (b) => (b.ftReceiptCase = true)),
  bodyCase('ftChargeItemCase "zz"', 'cbChargeItems[0].ftChargeItemCase', (b) => {
    b.cbChargeItems[0].ftChargeItemCase = 'zz'
  }),
  bodyCase(
    'ftPayItemCase "zz"',
    'cbPayItems[0].ftPayItemCase',
    (b) => (b.cbPayItems[0].ftPayItemCase = 'zz'),
  ),
  bodyCase('void without cbPreviousReceiptReference', 'cbPreviousReceiptReference', (b) => {
    b.ftReceiptCase = caseHex('EU', FLAG.void | RECEIPT_CASE.pos)
  }),
  ...[
    'yesterday',
    '2024-13-01T10:00:00Z',
    '2024-02-30T10:00:00Z',
    '2023-02-29T10:00:00Z',
    '2024-03-29',
    '',
  ].map((moment) =>
    bodyCase(
      `cbReceiptMoment ${JSON.stringify(moment)}`,
      'cbReceiptMoment',
      (b) => (b.cbReceiptMoment = moment),
    ),
  ),
  bodyCase('cbReceiptMoment as a number', 'cbReceiptMoment', (b) => (b.cbReceiptMoment = 1711707300000)),
  {
    name: 'missing x-operation-id',
    status: 400,
    field: /x-operation-id$/,
    send: (pos) => pos.sign(receipt(), { headers: { 'x-operation-id': undefined } }),
  },
  ...[
    'abc',
    '',
    `${randomUUID()}x`,
    randomUUID().replaceAll('-', ''),
    '{ea4279ee-8684-412f-b8eb-32b5dea52811}',
  ].map(
    (id): BadRequest => ({
      name: `x-operation-id ${JSON.stringify(id)}`,
      status: 400,
      field: /x-operation-id$/,
      send: (pos) => pos.sign(receipt(), { headers: { 'x-operation-id': id } }),
    }),
  ),
  ...[
    ['invalid JSON', '{"cbReceiptReference": "x",'],
    ['empty body', ''],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['a JSON string', '"receipt"'],
    ['JSON nested 40 levels deep', `${'['.repeat(40)}${']'.repeat(40)}`],
    ['a single quote JSON', "{'cbReceiptReference': 'x'}"],
  ].map(
    ([name, raw]): BadRequest => ({
      name: name as string,
      status: 400,
      field: 'body',
      send: (pos) => pos.sign(undefined, { raw: raw as string }),
    }),
  ),
  {
    name: 'invalid UTF-8',
    status: 400,
    field: 'body',
    send: (pos) => {
      const text = JSON.stringify(receipt({ reference: 'XX' }))
      const bytes = Buffer.from(text, 'utf8')
      const at = bytes.indexOf('XX')
      bytes[at] = 0xff
      bytes[at + 1] = 0xfe
      return pos.sign(undefined, { raw: bytes })
    },
  },
  {
    name: 'invalid UTF-8 in a body that also holds a real U+FFFD',
    status: 400,
    field: 'body',
    send: (pos) => {
      const bytes = Buffer.from(
        JSON.stringify(receipt({ reference: 'XX', extra: { cbUser: '\uFFFD' } })),
        'utf8',
      )
      bytes[bytes.indexOf('XX')] = 0xff
      return pos.sign(undefined, { raw: bytes })
    },
  },
  ...[
    'text/plain',
    'application/xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
  ].map(
    (type): BadRequest => ({
      name: `content type ${type}`,
      status: 415,
      field: 'content-type',
      send: (pos) => pos.sign(receipt(), { headers: { 'content-type': type } }),
    }),
  ),
  {
    name: 'body over the limit',
    status: 413,
    field: 'body',
    send: (pos) => pos.sign(receipt({ extra: { padding: 'x'.repeat(1024 * 1024) } })),
  },
  {
    name: 'unknown route',
    status: 404,
    send: (pos) =>
      pos.app
        .inject({
          method: 'POST',
          url: '/v2/nope',
          headers: pos.headers(),
          payload: JSON.stringify(receipt()),
        })
        .then((r) => ({
          status: r.statusCode,
          headers: r.headers,
          payload: r.payload,
          json: () => r.json(),
        })),
  },
  {
    name: 'GET on /v2/sign',
    status: 404,
    send: (pos) => pos.get('/v2/sign'),
  },
  ...(
    [
      ['bad token', { 'x-cashbox-accesstoken': 'not-the-token' }],
      ['missing token', { 'x-cashbox-accesstoken': undefined }],
      ['empty token', { 'x-cashbox-accesstoken': '' }],
      ['unknown cash box', { 'x-cashbox-id': randomUUID() }],
      ['malformed cash box id', { 'x-cashbox-id': 'box-1' }],
      ['missing cash box id', { 'x-cashbox-id': undefined }],
      ['no credentials', { 'x-cashbox-id': undefined, 'x-cashbox-accesstoken': undefined }],
    ] as Array<[string, Record<string, string | undefined>]>
  ).map(
    ([name, headers]): BadRequest => ({
      name,
      status: 401,
      send: (pos) => pos.sign(receipt(), { headers }),
    }),
  ),
  {
    name: "another cash box's token",
    status: 401,
    send: async (pos, harness) => {
      const other = await harness.runtime.cashboxes.create('EU')
      return pos.sign(receipt(), { headers: { 'x-cashbox-accesstoken': other.accessToken } })
    },
  },
]

for (const engine of await engines()) {
  describe(`bad requests are problems and write nothing (${engine})`, () => {
    let harness: Harness
    let pos: Pos
    before(async () => {
      harness = await startHarness(engine)
      pos = await startedPos(harness)
      await pos.signOk(receipt())
    })
    after(async () => {
      await harness?.close()
    })

    for (const bad of CASES) {
      test(`${bad.name} -> ${bad.status}${bad.field ? ` naming ${bad.field}` : ''}`, async () => {
        const before = await pos.snapshot()
        const reply = await bad.send(pos, harness)
        const problem = assertProblem(reply, bad.status, bad.field)
        if (bad.status === 400) assert.equal(problem.error, 'validation_error')
        if (bad.status === 401) {
          assert.equal(problem.error, 'unauthorized')
          // The same answer whatever was wrong: ids cannot be probed.
          assert.match(problem.message, /do not identify a cash box/)
        }
        assertNothingWritten(before, await pos.snapshot(), bad.name)
      })
    }

    test('the valid receipt the cases are made from is accepted (the cases fail for their one change)', async () => {
      const { response } = await pos.signOk(edited(() => {}))
      assert.equal(response.ftState, '0x4555200000000000')
    })

    test('a rejected receipt does not use a receipt number', async () => {
      const first = await pos.signOk(receipt())
      await pos.sign(edited((b) => (b.cbPayItems[0].Amount = 1)))
      const second = await pos.signOk(receipt())
      const number = (r: any) => Number.parseInt(r.ftReceiptIdentification.slice(2, -1), 16)
      assert.equal(number(second.response), number(first.response) + 1)
      assert.equal(second.response.ftQueueRow, first.response.ftQueueRow + 1)
    })

    test('a rejected operation id can be used again for a valid request', async () => {
      const operationId = randomUUID()
      const bad = await pos.sign(
        edited((b) => (b.cbChargeItems[0].Amount = 'abc')),
        { operationId },
      )
      assertProblem(bad, 400, 'cbChargeItems[0].Amount')
      const good = await pos.sign(receipt(), { operationId })
      assert.equal(good.status, 200, good.payload)
    })

    test('all field problems are also listed in errors[] (RFC 9457 style)', async () => {
      const reply = await pos.sign(edited((b) => delete b.cbReceiptReference))
      const problem = assertProblem(reply, 400, 'cbReceiptReference')
      assert.deepEqual(problem.errors, [problem.details])
      assert.match(problem.type, /^https:\/\//)
    })
  })
}
