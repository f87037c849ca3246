import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { caseHex, Pos, RECEIPT_CASE, receipt, startedPos } from '../../api/support.ts'
import {
  createCredentials,
  receipt as deReceipt,
  type SignDeClient,
  setUpTss,
  signDeClient,
} from '../../api/sign-de-v2/support.ts'
import type { Harness } from '../../helpers/harness.ts'
import { RECEIPT_FIELD_PATHS } from '../../helpers/hostile-json.ts'

/**
 * The fuzz suite's table of every endpoint (ENDPOINTS) and the world it runs against: cash boxes (EU and
 * Austrian), a payment, an issued receipt with its public link, two SIGN DE organizations with a TSS each,
 * clients, transactions and an export. A new endpoint is one more line of ENDPOINTS, with its field paths.
 */

export type Auth = 'cashbox' | 'bearer' | 'none'
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface World {
  harness: Harness
  pos: Pos
  other: Pos
  /** A provisioned, started Austrian cash box that signs. */
  at: Pos
  /** A provisioned Austrian cash box whose devices the fuzzer adds and switches. */
  atSpare: Pos
  /** Payments of `pos` (operation ids), for GET /v2/pay/{operationId}. */
  payments: string[]
  /** A receipt of `pos`, signed and issued: its request, response and public document id. */
  issued: { request: Record<string, unknown>; response: Record<string, unknown>; docId: string }
  de: {
    api: SignDeClient
    other: SignDeClient
    credentials: { api_key: string; api_secret: string }
    otherCredentials: { api_key: string; api_secret: string }
    tssId: string
    /** A TSS of the same organization whose admin PIN the fuzzer attacks (so that the first keeps its login). */
    adminTssId: string
    puk: string
    clientId: string
    /** Started transactions (revision 1) waiting for a finish. */
    active: string[]
    finishedTxId: string
    exportId: string
    /**
     * The file endpoint's own export: a DELETE that the fuzzer sends to the export's URL (a method swap)
     * withdraws it, and the file of a withdrawn export is never served again.
     */
    fileExportId: string
    otherTssId: string
  }
}

export interface Endpoint {
  name: string
  method: Method
  auth: Auth
  /** The cash box whose credentials are sent (default: world.pos); may create one (before rows are counted). */
  tenant?(w: World): Pos | Promise<Pos>
  url(w: World): string
  body?(w: World): Record<string, unknown>
  /** Paths into the body the generators attack. */
  fields: Array<Array<string | number>>
  /** Extra headers of a valid request. */
  headers?: Record<string, string>
  /** Error codes (SIGN DE) of refusals that are documented to write (a failed admin login is logged by the TSS). */
  loggedRefusals?: string[]
  /** Statuses other than 2xx at which the request was executed and may write (a declined payment is stored). */
  executedOn?: number[]
  /** Whether a 2xx is a signed receipt: exactly one queue item and one operation. */
  receipt?: boolean
}

const EU_SIGN_BODY = () =>
  receipt({
    extra: { cbTerminalID: 'T1' },
    charges: [
      { amount: '10.00', vat: 20 },
      { amount: 2.5, vat: 7 },
    ],
  })

const SIGN_FIELDS = RECEIPT_FIELD_PATHS

/** One moment for every Austrian receipt of the run: RKSV dates must not decrease. */
const AT_MOMENT = new Date().toISOString()
const atReceipt = () => ({
  cbReceiptReference: `B-${randomUUID().slice(0, 13)}`,
  cbReceiptMoment: AT_MOMENT,
  ftReceiptCase: '0x4154200000000001',
  ftReceiptCaseData: { AT: { SignatureDevice: 0 } },
  cbChargeItems: [
    {
      Quantity: 1,
      Description: 'Melange',
      Amount: '4.20',
      VATRate: 20,
      ftChargeItemCase: '0x4154200000000003',
    },
    { Quantity: 2, Description: 'Buch', Amount: 11, VATRate: 10, ftChargeItemCase: '0x4154200000000001' },
  ],
  cbPayItems: [{ Description: 'Bar', Amount: '15.20', ftPayItemCase: '0x4154200000000001' }],
})

const payBody = () => ({
  Action: 'payment',
  Protocol: 'simulator',
  cbPayItem: {
    Description: 'Card',
    Amount: '12.50',
    ftPayItemCase: '0x4555200000000005',
    ftPayItemCaseData: { Provider: { ProtocolRequest: { Simulate: { Outcome: 'approve', LatencyMs: 0 } } } },
  },
})

const txFinish = (w: World) => ({
  state: 'FINISHED',
  client_id: w.de.clientId,
  schema: deReceipt('10.00'),
})

const de = (path: string) => `/api/v2${path}`

export const ENDPOINTS: Endpoint[] = [
  // POS System API v2, as covered since the suite was written
  {
    name: 'POST /v2/sign',
    method: 'POST',
    auth: 'cashbox',
    url: () => '/v2/sign',
    body: EU_SIGN_BODY,
    fields: SIGN_FIELDS,
    receipt: true,
  },
  {
    name: 'POST /v2/sign (AT)',
    method: 'POST',
    auth: 'cashbox',
    tenant: (w) => w.at,
    url: () => '/v2/sign',
    body: atReceipt,
    fields: [
      ...SIGN_FIELDS,
      ['ftReceiptCaseData', 'AT', 'SignatureDevice'],
      ['ftReceiptCaseData', 'AT', 'OCR'],
    ],
    receipt: true,
  },
  {
    name: 'POST /v2/echo',
    method: 'POST',
    auth: 'cashbox',
    url: () => '/v2/echo',
    body: () => ({ Message: 'hello' }),
    fields: [['Message'], ['message']],
  },
  {
    name: 'GET /v2/journal/:queueId/:type',
    method: 'GET',
    auth: 'cashbox',
    url: (w) => `/v2/journal/${w.pos.queueId}/QueueItem?after=0&limit=5`,
    fields: [],
  },
  {
    name: 'POST /v2/journal',
    method: 'POST',
    auth: 'cashbox',
    url: () => '/v2/journal',
    body: () => ({ ftJournalType: 2, From: 0, To: -3 }),
    fields: [['ftJournalType'], ['From'], ['To']],
  },
  { name: 'GET /health', method: 'GET', auth: 'none', url: () => '/health', fields: [] },

  // Payments (docs/payments.md)
  {
    name: 'POST /v2/pay',
    method: 'POST',
    auth: 'cashbox',
    url: () => '/v2/pay',
    body: payBody,
    headers: { 'x-operation-lifetime': '200' },
    fields: [
      ['Action'],
      ['Protocol'],
      ['Currency'],
      ['cbTerminalID'],
      ['cbPayItem'],
      ['cbPayItem', 'Amount'],
      ['cbPayItem', 'Description'],
      ['cbPayItem', 'Quantity'],
      ['cbPayItem', 'Currency'],
      ['cbPayItem', 'ftPayItemCase'],
      ['cbPayItem', 'ftPayItemCaseData'],
      ['cbPayItem', 'ftPayItemCaseData', 'Provider'],
      ['cbPayItem', 'ftPayItemCaseData', 'Provider', 'ProtocolRequest'],
      ['cbPayItem', 'ftPayItemCaseData', 'Provider', 'ProtocolRequest', 'Simulate', 'Outcome'],
      ['cbPayItem', 'ftPayItemCaseData', 'Provider', 'ProtocolRequest', 'Simulate', 'ErrorCode'],
      ['cbPayItem', 'ftPayItemCaseData', 'Provider', 'ProtocolRequest', 'Simulate', 'LatencyMs'],
      ['cbPayItem', 'ftPayItemCaseData', 'Provider', 'ProtocolResponse', 'TransactionId'],
    ],
    // A declined, timed out or aborted payment is a payment that ran: it is stored with its answer.
    executedOn: [402],
  },
  {
    name: 'GET /v2/pay/:operationId',
    method: 'GET',
    auth: 'cashbox',
    url: (w) => `/v2/pay/${w.payments[0]}`,
    fields: [],
  },

  // Digital receipts (docs/receipts.md)
  {
    name: 'POST /v2/issue',
    method: 'POST',
    auth: 'cashbox',
    url: () => '/v2/issue',
    body: (w) => ({
      ReceiptRequest: structuredClone(w.issued.request),
      ReceiptResponse: structuredClone(w.issued.response),
    }),
    fields: [
      ['ReceiptRequest'],
      ['ReceiptResponse'],
      ['ReceiptRequest', 'cbReceiptReference'],
      ['ReceiptRequest', 'cbChargeItems', 0, 'Amount'],
      ['ReceiptResponse', 'ftQueueID'],
      ['ReceiptResponse', 'ftQueueItemID'],
      ['ReceiptResponse', 'ftReceiptIdentification'],
      ['ReceiptResponse', 'ftSignatures'],
      ['ReceiptResponse', 'ftState'],
    ],
  },
  {
    name: 'GET /v2/issue/:queueId/:queueItemId/delivered',
    method: 'GET',
    auth: 'cashbox',
    url: (w) => `/v2/issue/${w.pos.queueId}/${String(w.issued.response.ftQueueItemID)}/delivered`,
    fields: [],
  },
  {
    name: 'POST /v2/issue/:queueId/:queueItemId/delivered',
    method: 'POST',
    auth: 'cashbox',
    url: (w) => `/v2/issue/${w.pos.queueId}/${String(w.issued.response.ftQueueItemID)}/delivered`,
    body: () => ({}),
    fields: [['x']],
  },
  { name: 'GET /r/:id', method: 'GET', auth: 'none', url: (w) => `/r/${w.issued.docId}`, fields: [] },
  {
    name: 'GET /r/:id/receipt.pdf',
    method: 'GET',
    auth: 'none',
    url: (w) => `/r/${w.issued.docId}/receipt.pdf`,
    fields: [],
  },
  {
    name: 'GET /r/:id/receipt.txt',
    method: 'GET',
    auth: 'none',
    url: (w) => `/r/${w.issued.docId}/receipt.txt?width=42`,
    fields: [],
  },
  {
    name: 'GET /r/:id/receipt.escpos',
    method: 'GET',
    auth: 'none',
    url: (w) => `/r/${w.issued.docId}/receipt.escpos?width=48`,
    fields: [],
  },
  {
    name: 'POST /r/:id/delivered',
    method: 'POST',
    auth: 'none',
    url: (w) => `/r/${w.issued.docId}/delivered`,
    body: () => ({}),
    fields: [['x']],
  },

  // Austria (docs/country-at.md)
  {
    name: 'PUT /at/v1/cashbox',
    method: 'PUT',
    auth: 'cashbox',
    // A fresh Austrian cash box per request: a provisioned one answers 409 already_configured.
    tenant: async (w) => new Pos(w.harness.app, await w.harness.runtime.cashboxes.create('AT')),
    url: () => '/at/v1/cashbox',
    body: () => ({
      kassenId: `KASSE-${randomUUID().slice(0, 8)}`,
      aesKey: randomBytes(32).toString('base64'),
      companyId: 'U:ATU12345678',
      counterSize: 8,
      devices: [{ number: 0 }, { number: 1, provider: 'AT1', serial: '82424e8077297aa3' }],
    }),
    fields: [
      ['kassenId'],
      ['aesKey'],
      ['companyId'],
      ['counterSize'],
      ['devices'],
      ['devices', 0],
      ['devices', 0, 'number'],
      ['devices', 0, 'provider'],
      ['devices', 0, 'keyId'],
      ['devices', 0, 'privateKey'],
      ['devices', 1, 'serial'],
      ['devices', 1, 'certificate'],
      ['devices', 1, 'number'],
    ],
  },
  {
    name: 'GET /at/v1/cashbox',
    method: 'GET',
    auth: 'cashbox',
    tenant: (w) => w.at,
    url: () => '/at/v1/cashbox',
    fields: [],
  },
  {
    name: 'POST /at/v1/signature-devices',
    method: 'POST',
    auth: 'cashbox',
    tenant: (w) => w.atSpare,
    url: () => '/at/v1/signature-devices',
    body: () => ({ number: 10 + Math.floor(Math.random() * 990), keyId: `K${randomUUID().slice(0, 6)}` }),
    fields: [['number'], ['provider'], ['keyId'], ['serial'], ['privateKey'], ['certificate'], ['companyId']],
  },
  {
    name: 'PUT /at/v1/signature-devices/:number/status',
    method: 'PUT',
    auth: 'cashbox',
    tenant: (w) => w.atSpare,
    url: () => '/at/v1/signature-devices/0/status',
    body: () => ({ inService: Math.random() < 0.5 }),
    fields: [['inService']],
  },
  {
    name: 'GET /at/v1/dep7',
    method: 'GET',
    auth: 'cashbox',
    tenant: (w) => w.at,
    url: () => '/at/v1/dep7?from=2020-01-01T00:00:00Z&to=2099-12-31T23:59:59Z',
    fields: [],
  },

  // SIGN DE v2 (docs/sign-de-v2.md)
  {
    name: 'POST /api/v2/auth',
    method: 'POST',
    auth: 'none',
    url: () => de('/auth'),
    body: (w) => ({ ...w.de.credentials }),
    fields: [['api_key'], ['api_secret'], ['refresh_token']],
  },
  {
    name: 'PUT /api/v2/tss/:tss_id',
    method: 'PUT',
    auth: 'bearer',
    url: () => de(`/tss/${randomUUID()}`),
    body: () => ({ metadata: { shop: 'Berlin' } }),
    fields: [['metadata'], ['metadata', 'shop'], ['signature_algorithm'], ['description']],
  },
  {
    name: 'GET /api/v2/tss/:tss_id',
    method: 'GET',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}`),
    fields: [],
  },
  {
    name: 'GET /api/v2/tss',
    method: 'GET',
    auth: 'bearer',
    url: () => de('/tss?order_by=time_creation&order=desc&limit=5&offset=0&states[]=INITIALIZED'),
    fields: [],
  },
  {
    name: 'PATCH /api/v2/tss/:tss_id',
    method: 'PATCH',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}`),
    body: () => ({ description: 'Kasse 1', metadata: { shop: 'Berlin' } }),
    fields: [['state'], ['description'], ['metadata'], ['metadata', 'shop']],
  },
  {
    name: 'PATCH /api/v2/tss/:tss_id/admin',
    method: 'PATCH',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.adminTssId}/admin`),
    body: (w) => ({ admin_puk: w.de.puk, new_admin_pin: '654321' }),
    fields: [['admin_puk'], ['new_admin_pin']],
    loggedRefusals: ['E_CHANGE_ADMIN_PIN_FAILED'],
  },
  {
    name: 'POST /api/v2/tss/:tss_id/admin/auth',
    method: 'POST',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.adminTssId}/admin/auth`),
    body: () => ({ admin_pin: '654321' }),
    fields: [['admin_pin']],
    loggedRefusals: ['E_ADMIN_LOGIN_FAILED'],
  },
  {
    name: 'POST /api/v2/tss/:tss_id/admin/logout',
    method: 'POST',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.adminTssId}/admin/logout`),
    body: () => ({}),
    fields: [['x']],
  },
  {
    name: 'PUT /api/v2/tss/:tss_id/client/:client_id',
    method: 'PUT',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/client/${randomUUID()}`),
    body: () => ({ serial_number: `POS-${randomUUID().slice(0, 8)}`, metadata: { k: 'v' } }),
    fields: [['serial_number'], ['metadata'], ['metadata', 'k']],
  },
  {
    name: 'PATCH /api/v2/tss/:tss_id/client/:client_id',
    method: 'PATCH',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/client/${w.de.clientId}`),
    body: () => ({ metadata: { k: 'v' } }),
    fields: [['state'], ['metadata'], ['metadata', 'k'], ['serial_number']],
  },
  {
    name: 'GET /api/v2/tss/:tss_id/client/:client_id',
    method: 'GET',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/client/${w.de.clientId}`),
    fields: [],
  },
  {
    name: 'GET /api/v2/tss/:tss_id/client',
    method: 'GET',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/client?limit=3`),
    fields: [],
  },
  {
    name: 'GET /api/v2/client',
    method: 'GET',
    auth: 'bearer',
    url: () => de('/client?offset=1'),
    fields: [],
  },
  {
    name: 'PUT /api/v2/tss/:tss_id/tx/:tx_id (start)',
    method: 'PUT',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/tx/${randomUUID()}?tx_revision=1`),
    body: (w) => ({ state: 'ACTIVE', client_id: w.de.clientId }),
    fields: [['state'], ['client_id'], ['schema'], ['metadata']],
  },
  {
    name: 'PUT /api/v2/tss/:tss_id/tx/:tx_id (finish)',
    method: 'PUT',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/tx/${w.de.active.pop() ?? randomUUID()}?tx_revision=2`),
    body: txFinish,
    fields: [
      ['state'],
      ['client_id'],
      ['schema'],
      ['schema', 'standard_v1'],
      ['schema', 'standard_v1', 'receipt', 'receipt_type'],
      ['schema', 'standard_v1', 'receipt', 'amounts_per_vat_rate'],
      ['schema', 'standard_v1', 'receipt', 'amounts_per_vat_rate', 0, 'vat_rate'],
      ['schema', 'standard_v1', 'receipt', 'amounts_per_vat_rate', 0, 'amount'],
      ['schema', 'standard_v1', 'receipt', 'amounts_per_payment_type', 0, 'payment_type'],
      ['schema', 'standard_v1', 'receipt', 'amounts_per_payment_type', 0, 'amount'],
      ['schema', 'standard_v1', 'receipt', 'amounts_per_payment_type', 0, 'currency_code'],
      ['schema', 'raw'],
      ['metadata'],
    ],
  },
  {
    name: 'GET /api/v2/tss/:tss_id/tx/:tx_id',
    method: 'GET',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/tx/${w.de.finishedTxId}?tx_revision=2`),
    fields: [],
  },
  {
    name: 'GET /api/v2/tss/:tss_id/tx/:tx_id/log',
    method: 'GET',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/tx/${w.de.finishedTxId}/log`),
    fields: [],
  },
  {
    name: 'GET /api/v2/tss/:tss_id/tx',
    method: 'GET',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/tx?order_by=number&order=asc&limit=2&states[]=FINISHED`),
    fields: [],
  },
  { name: 'GET /api/v2/tx', method: 'GET', auth: 'bearer', url: () => de('/tx?limit=2'), fields: [] },
  {
    name: 'GET /api/v2/tss/:tss_id/client/:client_id/tx',
    method: 'GET',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/client/${w.de.clientId}/tx?limit=2`),
    fields: [],
  },
  {
    name: 'PATCH /api/v2/tss/:tss_id/tx/:tx_id/metadata',
    method: 'PATCH',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/tx/${w.de.finishedTxId}/metadata`),
    body: () => ({ note: 'x' }),
    fields: [['note'], ['x']],
  },
  {
    name: 'PUT /api/v2/tss/:tss_id/export/:export_id',
    method: 'PUT',
    auth: 'bearer',
    url: (w) =>
      de(`/tss/${w.de.tssId}/export/${randomUUID()}?start_signature_counter=1&maximum_number_records=1000`),
    body: () => ({}),
    fields: [['x']],
  },
  {
    name: 'GET /api/v2/tss/:tss_id/export/:export_id',
    method: 'GET',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/export/${w.de.exportId}`),
    fields: [],
  },
  {
    name: 'GET /api/v2/tss/:tss_id/export/:export_id/file',
    method: 'GET',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/export/${w.de.fileExportId}/file`),
    fields: [],
  },
  {
    name: 'GET /api/v2/tss/:tss_id/export',
    method: 'GET',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/export?limit=3`),
    fields: [],
  },
  {
    name: 'PATCH /api/v2/tss/:tss_id/metadata',
    method: 'PATCH',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/metadata`),
    body: () => ({ shop: 'Berlin 2' }),
    fields: [['shop'], ['x']],
  },
  {
    name: 'GET /api/v2/tss/:tss_id/client/:client_id/metadata',
    method: 'GET',
    auth: 'bearer',
    url: (w) => de(`/tss/${w.de.tssId}/client/${w.de.clientId}/metadata`),
    fields: [],
  },
]

/** Builds the world of ENDPOINTS on a harness, through the public interfaces. */
export async function buildWorld(harness: Harness, activeTransactions: number): Promise<World> {
  const pos = await startedPos(harness)
  const other = await startedPos(harness)
  const at = await startedPos(harness, 'AT')
  const atSpare = await startedPos(harness, 'AT')

  const payments: string[] = []
  const operationId = randomUUID()
  const paid = await harness.app.inject({
    method: 'POST',
    url: '/v2/pay',
    headers: pos.headers({ 'x-operation-id': operationId }),
    payload: payBody(),
  })
  assert.equal(paid.statusCode, 200, paid.payload)
  payments.push(operationId)

  const request = receipt({ charges: [{ amount: '3.00', vat: 20 }], country: 'EU' })
  const signed = await pos.signOk(request)
  const issuedReply = await pos.post('/v2/issue', {
    ReceiptRequest: request,
    ReceiptResponse: signed.response,
  })
  assert.equal(issuedReply.status, 200, issuedReply.payload)
  const docId = new URL(issuedReply.json().DocumentURL).pathname.split('/')[2] as string

  const credentials = await createCredentials(harness)
  const otherCredentials = await createCredentials(harness)
  const api = await signDeClient(harness.app, credentials)
  const otherApi = await signDeClient(harness.app, otherCredentials)
  const tss = await setUpTss(api)
  const adminTss = await setUpTss(api)
  const otherTss = await setUpTss(otherApi)
  const clientId = tss.clientIds[0] as string
  // The fuzzer's client registrations need the admin: log in on the first TSS and stay logged in.
  assert.equal((await api.call('POST', `/tss/${tss.tssId}/admin/auth`, { admin_pin: tss.pin })).status, 200)
  const finishedTxId = randomUUID()
  for (const [revision, body] of [
    [1, { state: 'ACTIVE', client_id: clientId }],
    [2, { state: 'FINISHED', client_id: clientId, schema: deReceipt('10.00') }],
  ] as const) {
    const reply = await api.call('PUT', `/tss/${tss.tssId}/tx/${finishedTxId}?tx_revision=${revision}`, body)
    assert.equal(reply.status, 200, JSON.stringify(reply.body))
  }
  const active: string[] = []
  for (let i = 0; i < activeTransactions; i++) {
    const txId = randomUUID()
    const reply = await api.call('PUT', `/tss/${tss.tssId}/tx/${txId}?tx_revision=1`, {
      state: 'ACTIVE',
      client_id: clientId,
    })
    assert.equal(reply.status, 200, JSON.stringify(reply.body))
    active.push(txId)
  }
  const completedExport = async () => {
    const id = randomUUID()
    const exported = await api.call('PUT', `/tss/${tss.tssId}/export/${id}`, {})
    assert.equal(exported.status, 200, JSON.stringify(exported.body))
    // Built before the fuzzing starts: on a loaded machine the file could otherwise still be in the
    // making (404 E_EXPORT_NOT_COMPLETED) for much of the run. Polled, not timed.
    let state = exported.body.state
    while (state === 'PENDING' || state === 'WORKING') {
      await new Promise((resolve) => setTimeout(resolve, 20))
      state = (await api.call('GET', `/tss/${tss.tssId}/export/${id}`)).body.state
    }
    assert.equal(state, 'COMPLETED')
    return id
  }
  const exportId = await completedExport()
  const fileExportId = await completedExport()

  return {
    harness,
    pos,
    other,
    at,
    atSpare,
    payments,
    issued: { request, response: signed.response, docId },
    de: {
      api,
      other: otherApi,
      credentials,
      otherCredentials,
      tssId: tss.tssId,
      adminTssId: adminTss.tssId,
      puk: adminTss.puk,
      clientId,
      active,
      finishedTxId,
      exportId,
      fileExportId,
      otherTssId: otherTss.tssId,
    },
  }
}

/** Row counts of every table of the database (migrations' own bookkeeping aside), in one statement. */
export async function tableNames(harness: Harness): Promise<string[]> {
  const db = harness.runtime.storage.db
  const rows =
    harness.engine === 'sqlite'
      ? await sql<{
          name: string
        }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db)
      : await sql<{
          name: string
        }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(
          db,
        )
  return rows.rows
    .map((r) => r.name)
    .filter((n) => !n.startsWith('kysely_'))
    .sort()
}

export async function rowCounts(harness: Harness, tables: string[]): Promise<Record<string, number>> {
  const parts = tables.map((t) => sql`(select count(*) from ${sql.table(t)}) as ${sql.ref(t)}`)
  const result = await sql<Record<string, number>>`select ${sql.join(parts)}`.execute(
    harness.runtime.storage.db,
  )
  return Object.fromEntries(Object.entries(result.rows[0] ?? {}).map(([k, v]) => [k, Number(v)]))
}

export const EU_CASE_START = caseHex('EU', RECEIPT_CASE.start)
