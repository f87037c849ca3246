import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { type Pos, receipt, startedPos } from '../api/support.ts'
import {
  createCredentials,
  receipt as deReceipt,
  type SignDeClient,
  setUpTss,
  signDeClient,
} from '../api/sign-de-v2/support.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'

/**
 * Tenant isolation of the surfaces that came after the POS System API's sign and journal: a cash box's
 * credentials never reach another cash box's payments, issued receipts or Austrian configuration, devices
 * and DEP7; SIGN DE credentials of one organization never reach another's TSS, clients, transactions and
 * exports. And the public receipt links cannot be guessed or enumerated.
 */

interface Tenant {
  pos: Pos
  at: Pos
  de: SignDeClient
  credentials: { api_key: string; api_secret: string }
  tssId: string
  pin: string
  puk: string
  clientId: string
  activeTxId: string
  finishedTxId: string
  exportId: string
  payment: { operationId: string; body: Record<string, unknown>; answer: any }
  issued: { request: Record<string, unknown>; response: any; docId: string }
}

async function tenant(harness: Harness): Promise<Tenant> {
  const pos = await startedPos(harness)
  const at = await startedPos(harness, 'AT')
  const signedAt = await at.signOk({
    cbReceiptReference: `B-${randomUUID().slice(0, 8)}`,
    cbReceiptMoment: new Date().toISOString(),
    ftReceiptCase: '0x4154200000000001',
    cbChargeItems: [
      {
        Quantity: 1,
        Description: 'Melange',
        Amount: '4.20',
        VATRate: 20,
        ftChargeItemCase: '0x4154200000000003',
      },
    ],
    cbPayItems: [{ Description: 'Bar', Amount: '4.20', ftPayItemCase: '0x4154200000000001' }],
  })
  assert.ok(signedAt.response.ftSignatures.length > 0)
  const operationId = randomUUID()
  const body = {
    Action: 'payment',
    Protocol: 'simulator',
    cbPayItem: { Description: 'Card', Amount: '7.10' },
  }
  const paid = await harness.app.inject({
    method: 'POST',
    url: '/v2/pay',
    headers: pos.headers({ 'x-operation-id': operationId }),
    payload: body,
  })
  assert.equal(paid.statusCode, 200, paid.payload)
  const request = receipt({ charges: [{ amount: '7.10', vat: 20 }] })
  const signed = await pos.signOk(request)
  const issuedReply = await pos.post('/v2/issue', {
    ReceiptRequest: request,
    ReceiptResponse: signed.response,
  })
  assert.equal(issuedReply.status, 200, issuedReply.payload)
  const credentials = await createCredentials(harness)
  const de = await signDeClient(harness.app, credentials)
  const tss = await setUpTss(de)
  const clientId = tss.clientIds[0] as string
  const finishedTxId = randomUUID()
  const activeTxId = randomUUID()
  for (const [txId, revision, txBody] of [
    [finishedTxId, 1, { state: 'ACTIVE', client_id: clientId }],
    [finishedTxId, 2, { state: 'FINISHED', client_id: clientId, schema: deReceipt('7.10') }],
    [activeTxId, 1, { state: 'ACTIVE', client_id: clientId }],
  ] as const) {
    const reply = await de.call('PUT', `/tss/${tss.tssId}/tx/${txId}?tx_revision=${revision}`, txBody)
    assert.equal(reply.status, 200, JSON.stringify(reply.body))
  }
  const exportId = randomUUID()
  assert.equal((await de.call('PUT', `/tss/${tss.tssId}/export/${exportId}`, {})).status, 200)
  return {
    pos,
    at,
    de,
    credentials,
    tssId: tss.tssId,
    pin: tss.pin,
    puk: tss.puk,
    clientId,
    activeTxId,
    finishedTxId,
    exportId,
    payment: { operationId, body, answer: paid.json() },
    issued: {
      request,
      response: signed.response,
      docId: new URL(issuedReply.json().DocumentURL).pathname.split('/')[2] as string,
    },
  }
}

/** Everything of a tenant that an answer to another tenant must not show. */
async function victimData(harness: Harness, v: Tenant): Promise<string[]> {
  const atConfig = (await v.at.get('/at/v1/cashbox')).json()
  const dep7 = (await v.at.get('/at/v1/dep7')).json()
  const tss = (await v.de.call('GET', `/tss/${v.tssId}`)).body
  const tx = (await v.de.call('GET', `/tss/${v.tssId}/tx/${v.finishedTxId}`)).body
  const item = v.payment.answer.ftPayItems[0]
  void harness
  return [
    v.pos.box.accessToken,
    v.at.box.accessToken,
    v.credentials.api_secret,
    v.de.token,
    v.puk,
    item.ftPayItemId,
    item.ftPayItemCaseData.Provider.ProtocolResponse.TransactionId,
    item.ftPayItemCaseData.Provider.ProtocolResponse.ApprovalCode,
    v.issued.docId,
    ...v.issued.response.ftSignatures.map((s: { Data: string }) => s.Data),
    atConfig.kassenId,
    ...atConfig.devices.map((d: { publicKey: string }) => d.publicKey),
    ...dep7['Belege-Gruppe'].flatMap((g: { 'Belege-kompakt': string[] }) => g['Belege-kompakt']),
    tss.public_key,
    tss.serial_number,
    tx.signature.value,
    tx.qr_code_data,
    v.tssId,
    v.clientId,
    v.finishedTxId,
    v.activeTxId,
    v.exportId,
    v.pos.queueId,
    v.at.queueId,
  ].filter((x): x is string => typeof x === 'string' && x.length > 0)
}

/** What the victim can read of its own data: compared before and after each attack, it proves nothing changed. */
async function victimState(v: Tenant): Promise<string> {
  const parts = await Promise.all([
    v.pos.get(`/v2/pay/${v.payment.operationId}`).then((r) => r.payload),
    v.pos
      .get(`/v2/issue/${v.pos.queueId}/${v.issued.response.ftQueueItemID}/delivered`)
      .then((r) => `${r.status}${r.payload}`),
    v.at.get('/at/v1/cashbox').then((r) => r.payload),
    v.at.get('/at/v1/dep7').then((r) => r.payload),
    v.de.call('GET', `/tss/${v.tssId}`).then((r) => JSON.stringify({ ...r.body, time_init: 0 })),
    v.de.call('GET', `/tss/${v.tssId}/client`).then((r) => JSON.stringify(r.body)),
    v.de.call('GET', `/tss/${v.tssId}/tx`).then((r) => JSON.stringify(r.body)),
    v.de
      .call('GET', `/tss/${v.tssId}/export`)
      .then((r) => JSON.stringify(r.body.data.map((e: any) => e._id))),
  ])
  return parts.join('\n')
}

type Attack = {
  name: string
  expect: number[]
  /** The request, as the attacker (a) sends it against the victim (v). */
  run(harness: Harness, a: Tenant, v: Tenant): Promise<{ status: number; payload: string; sent: string }>
}

const inject = async (
  harness: Harness,
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: unknown,
) => {
  const reply = await harness.app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  })
  return { status: reply.statusCode, payload: reply.payload, sent: `${url} ${JSON.stringify(body ?? null)}` }
}
const mixed = (a: Pos, v: Pos, extra: Record<string, string> = {}) =>
  v.headers({ 'x-cashbox-accesstoken': a.box.accessToken, ...extra })
const deCall = (h: Harness, a: Tenant, method: string, path: string, body?: unknown) =>
  inject(
    h,
    method,
    `/api/v2${path}`,
    {
      authorization: `Bearer ${a.de.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body,
  )

const ATTACKS: Attack[] = [
  // Payments
  {
    name: "GET the victim's payment by its operation id",
    expect: [404],
    run: (h, a, v) => inject(h, 'GET', `/v2/pay/${v.payment.operationId}`, a.pos.headers()),
  },
  {
    name: "GET the victim's payment with the victim's id and the attacker's token",
    expect: [401],
    run: (h, a, v) => inject(h, 'GET', `/v2/pay/${v.payment.operationId}`, mixed(a.pos, v.pos)),
  },
  {
    name: "POST /v2/pay replaying the victim's operation id and body: a payment of the attacker's own",
    expect: [200],
    run: (h, a, v) =>
      inject(
        h,
        'POST',
        '/v2/pay',
        a.pos.headers({ 'x-operation-id': v.payment.operationId }),
        v.payment.body,
      ),
  },
  {
    name: "POST /v2/pay refunding the victim's card transaction",
    expect: [404],
    run: (h, a, v) =>
      inject(h, 'POST', '/v2/pay', a.pos.headers({ 'x-operation-id': randomUUID() }), {
        Action: 'refund',
        Protocol: 'simulator',
        cbPayItem: { ...v.payment.answer.ftPayItems[0], Amount: -1 },
      }),
  },
  {
    name: "POST /v2/pay cancelling the victim's payment with the victim's id and the attacker's token",
    expect: [401],
    run: (h, a, v) =>
      inject(h, 'POST', '/v2/pay', mixed(a.pos, v.pos, { 'x-operation-id': randomUUID() }), {
        Action: 'cancel',
        Protocol: 'simulator',
        cbPayItem: { ...v.payment.answer.ftPayItems[0], Amount: -7.1 },
      }),
  },
  // Issued receipts
  {
    name: "POST /v2/issue with the victim's receipt",
    expect: [404],
    run: (h, a, v) =>
      inject(h, 'POST', '/v2/issue', a.pos.headers(), {
        ReceiptRequest: v.issued.request,
        ReceiptResponse: v.issued.response,
      }),
  },
  {
    name: "GET the victim's delivery state",
    expect: [404],
    run: (h, a, v) =>
      inject(
        h,
        'GET',
        `/v2/issue/${v.pos.queueId}/${v.issued.response.ftQueueItemID}/delivered`,
        a.pos.headers(),
      ),
  },
  {
    name: "POST the victim's delivery",
    expect: [404],
    run: (h, a, v) =>
      inject(
        h,
        'POST',
        `/v2/issue/${v.pos.queueId}/${v.issued.response.ftQueueItemID}/delivered`,
        a.pos.headers(),
        {},
      ),
  },
  {
    name: "POST the victim's delivery with the victim's id and the attacker's token",
    expect: [401],
    run: (h, a, v) =>
      inject(
        h,
        'POST',
        `/v2/issue/${v.pos.queueId}/${v.issued.response.ftQueueItemID}/delivered`,
        mixed(a.pos, v.pos),
        {},
      ),
  },
  // Austria
  {
    name: "GET /at/v1/cashbox with the victim's id and the attacker's token",
    expect: [401],
    run: (h, a, v) => inject(h, 'GET', '/at/v1/cashbox', mixed(a.at, v.at)),
  },
  {
    name: "GET /at/v1/dep7 with the victim's id and the attacker's token",
    expect: [401],
    run: (h, a, v) => inject(h, 'GET', '/at/v1/dep7', mixed(a.at, v.at)),
  },
  {
    name: "PUT a device of the victim out of service with the victim's id and the attacker's token",
    expect: [401],
    run: (h, a, v) =>
      inject(h, 'PUT', '/at/v1/signature-devices/0/status', mixed(a.at, v.at), { inService: false }),
  },
  {
    name: "POST a device to the victim with the victim's id and the attacker's token",
    expect: [401],
    run: (h, a, v) => inject(h, 'POST', '/at/v1/signature-devices', mixed(a.at, v.at), { number: 7 }),
  },
  {
    name: "PUT /at/v1/cashbox over the victim's with the victim's id and the attacker's token",
    expect: [401],
    run: (h, a, v) =>
      inject(h, 'PUT', '/at/v1/cashbox', mixed(a.at, v.at), { kassenId: 'EVIL', devices: [{ number: 0 }] }),
  },
  {
    name: "GET /at/v1/cashbox and /at/v1/dep7 with the attacker's credentials: only the attacker's own",
    expect: [200],
    run: async (h, a) => {
      const config = await inject(h, 'GET', '/at/v1/cashbox', a.at.headers())
      const dep7 = await inject(h, 'GET', '/at/v1/dep7', a.at.headers())
      assert.equal(dep7.status, 200)
      return { ...config, payload: config.payload + dep7.payload }
    },
  },
  // SIGN DE
  ...(
    [
      ['GET', (v: Tenant) => `/tss/${v.tssId}`, undefined, [404]],
      ['PATCH', (v: Tenant) => `/tss/${v.tssId}`, { description: 'evil' }, [404]],
      ['PATCH', (v: Tenant) => `/tss/${v.tssId}`, { state: 'DISABLED' }, [404]],
      ['PUT', (v: Tenant) => `/tss/${v.tssId}`, {}, [404, 409]],
      ['GET', (v: Tenant) => `/tss/${v.tssId}/metadata`, undefined, [404]],
      ['PATCH', (v: Tenant) => `/tss/${v.tssId}/metadata`, { evil: 'x' }, [404]],
      [
        'PATCH',
        (v: Tenant) => `/tss/${v.tssId}/admin`,
        (v: Tenant) => ({ admin_puk: v.puk, new_admin_pin: '999999' }),
        [404],
      ],
      ['POST', (v: Tenant) => `/tss/${v.tssId}/admin/auth`, (v: Tenant) => ({ admin_pin: v.pin }), [404]],
      ['POST', (v: Tenant) => `/tss/${v.tssId}/admin/logout`, {}, [404]],
      ['GET', (v: Tenant) => `/tss/${v.tssId}/client`, undefined, [404]],
      ['GET', (v: Tenant) => `/tss/${v.tssId}/client/${v.clientId}`, undefined, [404]],
      ['PUT', (v: Tenant) => `/tss/${v.tssId}/client/${randomUUID()}`, { serial_number: 'EVIL-1' }, [404]],
      ['PATCH', (v: Tenant) => `/tss/${v.tssId}/client/${v.clientId}`, { state: 'DEREGISTERED' }, [404]],
      ['GET', (v: Tenant) => `/tss/${v.tssId}/client/${v.clientId}/tx`, undefined, [404]],
      ['GET', (v: Tenant) => `/tss/${v.tssId}/tx`, undefined, [404]],
      ['GET', (v: Tenant) => `/tss/${v.tssId}/tx/${v.finishedTxId}`, undefined, [404]],
      ['GET', (v: Tenant) => `/tss/${v.tssId}/tx/1`, undefined, [404]],
      ['GET', (v: Tenant) => `/tss/${v.tssId}/tx/${v.finishedTxId}/log`, undefined, [404]],
      ['PATCH', (v: Tenant) => `/tss/${v.tssId}/tx/${v.finishedTxId}/metadata`, { evil: 'x' }, [404]],
      [
        'PUT',
        (v: Tenant) => `/tss/${v.tssId}/tx/${v.activeTxId}?tx_revision=2`,
        (v: Tenant) => ({ state: 'FINISHED', client_id: v.clientId, schema: deReceipt('0.01') }),
        [404],
      ],
      [
        'PUT',
        (v: Tenant) => `/tss/${v.tssId}/tx/${randomUUID()}?tx_revision=1`,
        (v: Tenant) => ({ state: 'ACTIVE', client_id: v.clientId }),
        [404],
      ],
      ['GET', (v: Tenant) => `/tss/${v.tssId}/export`, undefined, [404]],
      ['PUT', (v: Tenant) => `/tss/${v.tssId}/export/${randomUUID()}`, {}, [404]],
      ['GET', (v: Tenant) => `/tss/${v.tssId}/export/${v.exportId}`, undefined, [404]],
      ['GET', (v: Tenant) => `/tss/${v.tssId}/export/${v.exportId}/file`, undefined, [404]],
      ['DELETE', (v: Tenant) => `/tss/${v.tssId}/export/${v.exportId}`, undefined, [404]],
      ['GET', () => '/tss', undefined, [200]],
      ['GET', () => '/client', undefined, [200]],
      ['GET', () => '/tx', undefined, [200]],
    ] as Array<[string, (v: Tenant) => string, unknown, number[]]>
  ).map(
    ([method, path, body, expect]): Attack => ({
      name: `SIGN DE ${method} ${path({ tssId: '{victim tss}', clientId: '{client}', finishedTxId: '{tx}', activeTxId: '{active tx}', exportId: '{export}' } as Tenant).replace(/[0-9a-f-]{36}/, '{new id}')} with the attacker's token`,
      expect,
      run: (h, a, v) =>
        deCall(
          h,
          a,
          method,
          path(v),
          typeof body === 'function' ? (body as (v: Tenant) => unknown)(v) : body,
        ),
    }),
  ),
  {
    name: "SIGN DE with the victim's api_key and a wrong secret",
    expect: [401],
    run: (h, _a, v) =>
      inject(
        h,
        'POST',
        '/api/v2/auth',
        { 'content-type': 'application/json' },
        {
          api_key: v.credentials.api_key,
          api_secret: `${v.credentials.api_secret.slice(0, -1)}x`,
        },
      ),
  },
]

for (const engine of await engines()) {
  describe(`tenant isolation of payments, issued receipts, Austria and SIGN DE (${engine})`, () => {
    let harness: Harness
    let attacker: Tenant
    let victim: Tenant
    let secrets: string[]
    before(async () => {
      harness = await startHarness(engine)
      attacker = await tenant(harness)
      victim = await tenant(harness)
      secrets = await victimData(harness, victim)
    })
    after(async () => {
      await harness?.close()
    })

    for (const attack of ATTACKS) {
      test(`${attack.name}: ${attack.expect.join('/')}, no data of the victim, nothing of the victim changed`, async () => {
        const before = await victimState(victim)
        const reply = await attack.run(harness, attacker, victim)
        assert.ok(attack.expect.includes(reply.status), `${reply.status}: ${reply.payload.slice(0, 300)}`)
        for (const secret of secrets.filter((s) => !reply.sent.includes(s)))
          assert.ok(!reply.payload.includes(secret), `the answer holds the victim's ${secret.slice(0, 24)}`)
        if (reply.status >= 400 && !reply.sent.startsWith('/api/v2'))
          assert.equal(
            JSON.parse(reply.payload).details?.field !== undefined,
            true,
            'a refusal names its field',
          )
        assert.equal(await victimState(victim), before, "the victim's data is unchanged")
      })
    }
  })

  describe(`public receipt links cannot be guessed or enumerated (${engine})`, () => {
    let harness: Harness
    let pos: Pos
    before(async () => {
      harness = await startHarness(engine)
      pos = await startedPos(harness)
    })
    after(async () => {
      await harness?.close()
    })

    test('128 random bits per link, no relation to the receipt, and a wrong link is a 404 without data', async (t) => {
      const ids: string[] = []
      const items: string[] = []
      for (let i = 0; i < 40; i++) {
        const request = receipt({ charges: [{ amount: `${i + 1}.00`, vat: 20 }] })
        const signed = await pos.signOk(request)
        const reply = await pos.post('/v2/issue', {
          ReceiptRequest: request,
          ReceiptResponse: signed.response,
        })
        assert.equal(reply.status, 200, reply.payload)
        ids.push(new URL(reply.json().DocumentURL).pathname.split('/')[2] as string)
        items.push(signed.response.ftQueueItemID)
      }
      // 22 base64url characters = 16 bytes, all different, none derived from the queue item or its row.
      for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/)
      assert.equal(new Set(ids).size, ids.length)
      const bytes = ids.map((id) => Buffer.from(id, 'base64url'))
      for (const b of bytes) assert.equal(b.length, 16)
      for (const [i, id] of ids.entries()) {
        const item = Buffer.from((items[i] as string).replace(/-/g, ''), 'hex')
        assert.notDeepEqual(Buffer.from(id, 'base64url'), item, 'the link is not the queue item id')
      }
      // Bits are balanced (40 x 128 bits: a counter or a timestamp would leave most high bits equal) and
      // consecutive links share no prefix beyond chance.
      let ones = 0
      const perBit = new Array<number>(128).fill(0)
      for (const b of bytes)
        for (let bit = 0; bit < 128; bit++)
          if (((b[bit >> 3] as number) >> (7 - (bit & 7))) & 1) {
            ones += 1
            perBit[bit] = (perBit[bit] as number) + 1
          }
      const share = ones / (bytes.length * 128)
      assert.ok(share > 0.45 && share < 0.55, `share of one bits ${share}`)
      assert.equal(
        perBit.filter((n) => n === 0 || n === bytes.length).length <= 1,
        true,
        'bits stuck at 0 or 1',
      )
      for (let i = 1; i < ids.length; i++)
        assert.ok(
          (ids[i] as string).slice(0, 4) !== (ids[i - 1] as string).slice(0, 4),
          'consecutive links share a prefix',
        )

      // Wrong links: one character changed, random ones, other lengths, case changed, a queue item id.
      const real = ids[0] as string
      const flip = (s: string, at: number) =>
        `${s.slice(0, at)}${s[at] === 'A' ? 'B' : 'A'}${s.slice(at + 1)}`
      const wrong = [
        flip(real, 0),
        flip(real, 21),
        flip(real, 11),
        randomBytes(16).toString('base64url'),
        real.slice(0, 21),
        `${real}A`,
        real.toUpperCase() === real ? real.toLowerCase() : real.toUpperCase(),
        items[0] as string,
        '1',
        '0000000000000000000000',
      ]
      const answers = new Set<string>()
      for (const id of wrong) {
        for (const suffix of ['', '/receipt.pdf', '/receipt.txt', '/receipt.escpos']) {
          const reply = await harness.app.inject({ method: 'GET', url: `/r/${id}${suffix}` })
          assert.equal(reply.statusCode, 404, `${id}${suffix}: ${reply.statusCode}`)
          const problem = reply.json()
          assert.equal(problem.details.field, 'id')
          for (const other of ids) assert.ok(!reply.payload.includes(other))
          assert.ok(!reply.payload.includes(pos.queueId), 'no queue id in a 404')
          answers.add(reply.payload)
        }
        const mark = await harness.app.inject({ method: 'POST', url: `/r/${id}/delivered` })
        assert.equal(mark.statusCode, 404)
      }
      // The same body for every wrong link: no oracle telling a near miss from a random guess.
      assert.equal(answers.size, 1, [...answers].join('\n'))
      t.diagnostic(
        `links/${harness.engine}: ${ids.length} links, 16 random bytes each, ${(share * 100).toFixed(1)} % one bits; ${wrong.length * 5} wrong-link requests, all 404 with one identical body`,
      )
    })
  })
}
