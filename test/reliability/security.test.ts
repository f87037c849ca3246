import assert from 'node:assert/strict'
import crypto, {
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
} from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { syncBuiltinESMExports } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, test } from 'node:test'
import pg from 'pg'
import { type Pos, receipt, startedPos } from '../api/support.ts'
import { runCli, type Server, startServe, startServer } from '../cli/cli-process.ts'
import { engines, freshPostgresDatabase } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { loadConfig } from '../../src/config.ts'
import { MasterKey } from '../../src/core/secrets.ts'
import { newMasterKey, nodeEnv } from './support/fiscalbox.ts'

/**
 * Security: a cash box's credentials never reach another cash box's queue, journal or operations (a matrix
 * over every endpoint); secrets at rest are hashes or sealed (the database's bytes hold no token and no
 * private key); logs never hold a token; bad credentials are rate-limited per client address; a wrong master
 * key stops the server at start.
 */

interface Victim {
  pos: Pos
  /** Strings of the victim's data that must never appear in an answer to someone else. */
  secrets: string[]
  operationId: string
  body: Record<string, unknown>
}

type Request = {
  method: 'GET' | 'POST'
  url: string
  headers: Record<string, string | undefined>
  body?: unknown
}

/** Every endpoint, tried with the attacker's credentials (or a mix) against the victim. */
const MATRIX: Array<{ name: string; expect: number[]; build(attacker: Pos, victim: Victim): Request }> = [
  {
    name: "GET the victim's queue journal (each type) with the attacker's credentials",
    expect: [404],
    build: (a, v) => ({ method: 'GET', url: v.pos.journalUrl('QueueItem'), headers: a.headers() }),
  },
  {
    name: "GET the victim's receipt journal with the attacker's credentials",
    expect: [404],
    build: (a, v) => ({ method: 'GET', url: v.pos.journalUrl('ReceiptJournal'), headers: a.headers() }),
  },
  {
    name: "GET the victim's action journal with the attacker's credentials",
    expect: [404],
    build: (a, v) => ({ method: 'GET', url: v.pos.journalUrl('ActionJournal'), headers: a.headers() }),
  },
  {
    name: "GET the victim's journal with the victim's id and the attacker's token",
    expect: [401],
    build: (a, v) => ({
      method: 'GET',
      url: v.pos.journalUrl('QueueItem'),
      headers: v.pos.headers({ 'x-cashbox-accesstoken': a.box.accessToken }),
    }),
  },
  {
    name: "GET the victim's journal with the attacker's id and the victim's queue in upper case",
    expect: [404],
    build: (a, v) => ({
      method: 'GET',
      url: v.pos.journalUrl('QueueItem', '', v.pos.queueId.toUpperCase()),
      headers: a.headers(),
    }),
  },
  {
    name: 'POST /v2/journal naming the victim (ftQueueId, ftCashBoxId) in the body',
    expect: [200, 400],
    build: (a, v) => ({
      method: 'POST',
      url: '/v2/journal',
      headers: a.headers(),
      body: { ftJournalType: 3, ftQueueId: v.pos.queueId, ftCashBoxId: v.pos.box.cashboxId },
    }),
  },
  {
    name: "POST /v2/journal with the victim's id and the attacker's token",
    expect: [401],
    build: (a, v) => ({
      method: 'POST',
      url: '/v2/journal',
      headers: v.pos.headers({ 'x-cashbox-accesstoken': a.box.accessToken }),
      body: { ftJournalType: 3 },
    }),
  },
  {
    name: "POST /v2/sign with the victim's id and the attacker's token",
    expect: [401],
    build: (a, v) => ({
      method: 'POST',
      url: '/v2/sign',
      headers: v.pos.headers({ 'x-cashbox-accesstoken': a.box.accessToken, 'x-operation-id': randomUUID() }),
      body: receipt(),
    }),
  },
  {
    name: "POST /v2/sign replaying the victim's operation id and body with the attacker's credentials",
    expect: [200],
    build: (a, v) => ({
      method: 'POST',
      url: '/v2/sign',
      headers: a.headers({ 'x-operation-id': v.operationId }),
      body: v.body,
    }),
  },
  {
    name: "POST /v2/sign with the victim's queue and cash box named in the body",
    expect: [200, 400],
    build: (a, v) => ({
      method: 'POST',
      url: '/v2/sign',
      headers: a.headers({ 'x-operation-id': randomUUID() }),
      body: { ...receipt(), ftQueueID: v.pos.queueId, ftCashBoxID: v.pos.box.cashboxId },
    }),
  },
  {
    name: "POST /v2/echo with the victim's id and the attacker's token",
    expect: [401],
    build: (a, v) => ({
      method: 'POST',
      url: '/v2/echo',
      headers: v.pos.headers({ 'x-cashbox-accesstoken': a.box.accessToken }),
      body: { Message: 'hi' },
    }),
  },
]

for (const engine of await engines()) {
  describe(`tenant isolation matrix (${engine})`, () => {
    let harness: Harness
    let attacker: Pos
    let victim: Victim
    before(async () => {
      harness = await startHarness(engine)
      attacker = await startedPos(harness)
      const pos = await startedPos(harness)
      const body = receipt({ reference: `victim-${randomUUID()}` })
      const operationId = randomUUID()
      const { response } = await pos.signOk(body, { operationId })
      const items = await pos.journal('QueueItem')
      const receipts = await pos.journal('ReceiptJournal')
      victim = {
        pos,
        operationId,
        body,
        secrets: [
          pos.box.accessToken,
          body.cbReceiptReference as string,
          response.ftQueueItemID,
          ...items.map((i) => i.ftQueueItemId),
          ...receipts.map((r) => r.ftReceiptHash),
          ...response.ftSignatures.map((s: { Data: string }) => s.Data),
        ],
      }
    })
    after(async () => {
      await harness?.close()
    })

    for (const row of MATRIX) {
      test(`${row.name}: ${row.expect.join('/')}, no data of the victim, nothing written to the victim`, async () => {
        const before = await victim.pos.snapshot()
        const req = row.build(attacker, victim)
        const reply = await harness.app.inject({
          method: req.method,
          url: req.url,
          headers: Object.fromEntries(
            Object.entries(req.headers).filter(([, v]) => v !== undefined),
          ) as Record<string, string>,
          ...(req.body === undefined ? {} : { payload: JSON.stringify(req.body) }),
        })
        assert.ok(
          row.expect.includes(reply.statusCode),
          `${reply.statusCode}: ${reply.payload.slice(0, 300)}`,
        )
        // What the attacker sent (the victim's reference, when replaying its body) may come back; nothing else.
        const sent = JSON.stringify(req)
        for (const secret of victim.secrets.filter((s) => !sent.includes(s)))
          assert.ok(!reply.payload.includes(secret), `the answer holds the victim's ${secret.slice(0, 20)}`)
        if (reply.statusCode === 200 && req.url === '/v2/sign') {
          // Signed, if at all, into the attacker's own queue.
          assert.equal(reply.json().ftCashBoxID, attacker.box.cashboxId)
          assert.equal(reply.json().ftQueueID, attacker.queueId)
        }
        const afterSnapshot = await victim.pos.snapshot()
        assert.deepEqual(afterSnapshot, before, "the victim's journals are unchanged")
      })
    }
  })
}

for (const engine of await engines()) {
  describe(`no timing oracle on cash box ids (${engine})`, () => {
    let harness: Harness
    let pos: Pos
    before(async () => {
      harness = await startHarness(engine)
      pos = await startedPos(harness)
    })
    after(async () => {
      await harness?.close()
    })

    test('an unknown cash box id gets the same token hashing and comparison as a known id with a wrong token', async (t) => {
      // Counted, not replaced: the real functions run, the test only sees how often.
      const hashes = t.mock.method(crypto, 'createHash')
      const compares = t.mock.method(crypto, 'timingSafeEqual')
      syncBuiltinESMExports()
      const work = async (headers: Record<string, string>) => {
        hashes.mock.resetCalls()
        compares.mock.resetCalls()
        const reply = await harness.app.inject({
          method: 'POST',
          url: '/v2/echo',
          headers,
          payload: '{"Message":"x"}',
        })
        assert.equal(reply.statusCode, 401)
        return { hashes: hashes.mock.callCount(), compares: compares.mock.callCount(), body: reply.payload }
      }
      const known = { ...pos.headers(), 'x-cashbox-accesstoken': randomBytes(32).toString('base64url') }
      const unknown = { ...known, 'x-cashbox-id': randomUUID() }
      // The known id is in memory after its start receipt; a failed check reads the store for both anyway.
      for (let round = 0; round < 3; round += 1) {
        const forKnown = await work(known)
        const forUnknown = await work(unknown)
        assert.deepEqual(forUnknown, forKnown, `round ${round}: the same work and the same answer`)
        assert.equal(forKnown.hashes, 1, 'the token is hashed once')
        assert.ok(forKnown.compares >= 1, 'and compared in constant time')
      }
      t.mock.restoreAll()
      syncBuiltinESMExports()
    })
  })
}

describe('receipt links never echo the Host header', () => {
  let harness: Harness
  const PUBLIC_URL = 'https://receipts.example.com/shop'
  before(async () => {
    harness = await startHarness('sqlite', { publicUrl: () => PUBLIC_URL })
  })
  after(async () => {
    await harness?.close()
  })

  test('DocumentURL is built from PUBLIC_URL whatever the Host header says', async () => {
    const pos = await startedPos(harness)
    const body = receipt()
    const { response } = await pos.signOk(body)
    for (const host of ['evil.example.com"><script>alert(1)</script>', 'evil.example.com', undefined]) {
      const reply = await harness.app.inject({
        method: 'POST',
        url: '/v2/issue',
        headers: { ...pos.headers(), ...(host ? { host } : {}) },
        payload: JSON.stringify({ ReceiptRequest: body, ReceiptResponse: response }),
      })
      assert.equal(reply.statusCode, 200, reply.payload)
      assert.match(reply.json().DocumentURL, /^https:\/\/receipts\.example\.com\/shop\/r\/[A-Za-z0-9_-]{22}$/)
    }
  })

  test('a PUBLIC_URL that is not a plain http(s) base URL stops start-up naming the variable', () => {
    for (const bad of [
      'evil.example.com',
      'javascript:alert(1)',
      'https://x.example/"><script>',
      'https://a b',
    ])
      assert.throws(() => loadConfig({ PUBLIC_URL: bad }), /PUBLIC_URL/)
    assert.equal(
      loadConfig({ PUBLIC_URL: 'https://receipts.example.com' }).PUBLIC_URL,
      'https://receipts.example.com',
    )
  })
})

/** Plaintext private keys in any of the encodings a careless store would use. */
const P256_PKCS8_DER = Buffer.from(
  '308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420',
  'hex',
)
const PRIVATE_KEY_MARKERS: Array<string | Buffer> = [
  P256_PKCS8_DER,
  P256_PKCS8_DER.toString('hex'),
  P256_PKCS8_DER.toString('base64').slice(0, 40),
  'PRIVATE KEY-----',
  'MHcCAQEEI', // SEC1 "EC PRIVATE KEY" DER in base64
]

function findPrivateKey(bytes: Buffer): string | undefined {
  for (const marker of PRIVATE_KEY_MARKERS) {
    if (bytes.includes(marker)) return typeof marker === 'string' ? marker : marker.toString('hex')
  }
  return undefined
}

/** A P-256/P-384 private key's scalar, the bytes a careless store could keep without any DER around them. */
function rawScalar(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).d as string, 'base64url')
}

/** A secret in the encodings a careless store or log would use. */
function encodings(secret: Buffer): Array<string | Buffer> {
  return [secret, secret.toString('hex'), secret.toString('base64'), secret.toString('base64url')]
}

/** Every sealed value of the database, by column (what the master key protects). */
async function sealedValues(
  engine: string,
  dataDir: string,
  databaseUrl: string,
): Promise<Array<{ column: string; value: string }>> {
  const columns = [
    ['signing_keys', 'private_key_encrypted'],
    ['de_tss', 'private_key_encrypted'],
    ['de_secrets', 'sealed'],
    ['at_cashboxes', 'aes_key_encrypted'],
    ['at_signature_devices', 'private_key_encrypted'],
  ] as const
  const out: Array<{ column: string; value: string }> = []
  if (engine === 'sqlite') {
    const { default: Database } = await import('better-sqlite3')
    const db = new Database(join(dataDir, 'fiscalbox.db'), { readonly: true })
    try {
      for (const [table, column] of columns)
        for (const row of db.prepare(`select ${column} as v from ${table}`).all() as Array<{ v: string }>)
          if (row.v) out.push({ column: `${table}.${column}`, value: row.v })
    } finally {
      db.close()
    }
    return out
  }
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    for (const [table, column] of columns)
      for (const row of (await client.query(`select ${column} as v from ${table}`)).rows as Array<{
        v: string
      }>)
        if (row.v) out.push({ column: `${table}.${column}`, value: row.v })
  } finally {
    await client.end()
  }
  return out
}

/** Every byte of the stored data: the SQLite files, or every row of the PostgreSQL database as text. */
async function storedBytes(engine: string, dataDir: string, databaseUrl: string): Promise<Buffer> {
  if (engine === 'sqlite') {
    return Buffer.concat(
      readdirSync(dataDir)
        .filter((f) => f.startsWith('fiscalbox.db'))
        .map((f) => readFileSync(join(dataDir, f))),
    )
  }
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const tables = await client.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public'",
    )
    const parts: string[] = []
    for (const { table_name } of tables.rows) {
      const rows = await client.query(`select t::text as row from "${table_name}" t`)
      parts.push(...rows.rows.map((r: { row: string }) => r.row))
    }
    return Buffer.from(parts.join('\n'), 'utf8')
  } finally {
    await client.end()
  }
}

/** A request from a chosen local address (127.0.0.x are all loopback on Linux): another client address. */
function requestFrom(
  localAddress: string,
  url: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: body === undefined ? 'GET' : 'POST', headers, localAddress },
      (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * Sends `path` exactly as written (a URL object would resolve `..`), with `bodyBytes` of body; resolves
 * with the answer once the whole body is written, or rejects with the socket's error (EPIPE, ECONNRESET).
 */
function rawRequest(
  baseUrl: string,
  path: string,
  headers: Record<string, string> = {},
  bodyBytes = 0,
): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(baseUrl)
  return new Promise((resolve, reject) => {
    let answer: { status: number; text: string } | undefined
    let writing = bodyBytes > 0
    const settle = () => {
      if (answer && !writing) resolve(answer)
    }
    const req = httpRequest(
      {
        host: hostname,
        port,
        path,
        method: bodyBytes > 0 ? 'POST' : 'GET',
        headers: bodyBytes > 0 ? { ...headers, 'content-length': String(bodyBytes) } : headers,
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () => {
          answer = { status: res.statusCode ?? 0, text }
          settle()
        })
      },
    )
    req.on('error', reject)
    // One write of the whole body: the socket sends it as fast as the server reads.
    req.end(bodyBytes > 0 ? Buffer.alloc(bodyBytes, 0x20) : undefined, () => {
      writing = false
      settle()
    })
  })
}

const BURST = 5

for (const engine of await engines()) {
  describe(`secrets at rest, logs, brute force and master key on the real server (${engine})`, () => {
    const root = mkdtempSync(join(tmpdir(), `fiscalbox-security-${engine}-`))
    const dataDir = join(root, 'data')
    const masterKey = newMasterKey()
    let databaseUrl = `sqlite:${join(dataDir, 'fiscalbox.db')}`
    let dropDatabase: (() => Promise<void>) | undefined
    let env: NodeJS.ProcessEnv
    let server: Server | undefined
    const tokens: string[] = []
    /** SIGN DE api_secret, JWTs, refresh tokens, admin PIN and PUK (right and wrong). */
    const deSecrets: string[] = []
    /** Keys the suite gave the server (AT AES key, an imported device key): their bytes. */
    const plainKeys: Buffer[] = []
    let cashbox: { cashboxId: string; accessToken: string; queueId: string }
    let logs = ''

    before(async () => {
      if (engine === 'postgres') {
        const database = await freshPostgresDatabase()
        databaseUrl = database.url
        dropDatabase = database.drop
      }
      env = nodeEnv(databaseUrl, masterKey, dataDir, {
        LOG_LEVEL: 'info',
        AUTH_FAILURE_BURST: String(BURST),
        AUTH_FAILURES_PER_MINUTE: '1',
      })
      const created = await runCli(['cashbox', 'create', '--country', 'EU', '--json'], env)
      assert.equal(created.code, 0, created.stderr)
      cashbox = JSON.parse(created.stdout)
      tokens.push(cashbox.accessToken)
      server = await startServer(env)
      if (server.demo) tokens.push(server.demo.accessToken)
    })
    after(async () => {
      await server?.stop('SIGKILL')
      await dropDatabase?.()
      rmSync(root, { recursive: true, force: true })
    })

    const auth = () => ({
      'content-type': 'application/json',
      'x-cashbox-id': cashbox.cashboxId,
      'x-cashbox-accesstoken': cashbox.accessToken,
    })

    it('serves every endpoint with a token, so that the log has lines to search', async () => {
      const base = (server as Server).baseUrl
      const start = await requestFrom(
        '127.0.0.1',
        `${base}/v2/sign`,
        { ...auth(), 'x-operation-id': randomUUID() },
        JSON.stringify({ ...receipt({ charges: [], pays: [] }), ftReceiptCase: '0x4555200000004001' }),
      )
      assert.equal(start.status, 200, start.text)
      for (let i = 0; i < 5; i++) {
        const signed = await requestFrom(
          '127.0.0.1',
          `${base}/v2/sign`,
          { ...auth(), 'x-operation-id': randomUUID() },
          JSON.stringify(receipt()),
        )
        assert.equal(signed.status, 200, signed.text)
      }
      const echo = await requestFrom(
        '127.0.0.1',
        `${base}/v2/echo`,
        auth(),
        JSON.stringify({ Message: cashbox.accessToken.slice(0, 4) }),
      )
      assert.equal(echo.status, 200)
      const journal = await requestFrom(
        '127.0.0.1',
        `${base}/v2/journal/${cashbox.queueId}/QueueItem`,
        auth(),
      )
      assert.equal(journal.status, 200)
      const invalid = await requestFrom(
        '127.0.0.1',
        `${base}/v2/sign`,
        { ...auth(), 'x-operation-id': randomUUID() },
        '{"broken":',
      )
      assert.equal(invalid.status, 400)
    })

    it('serves the SIGN DE API, Austrian provisioning and receipts, payments and issued receipts with their secrets', async () => {
      const base = (server as Server).baseUrl
      const json = async (
        method: string,
        path: string,
        body: unknown,
        headers: Record<string, string> = {},
      ) => {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        })
        const text = await res.text()
        assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`)
        return JSON.parse(text)
      }
      // SIGN DE: credentials from the CLI, a token pair, a TSS set up with PUK and PIN, a transaction.
      const made = await runCli(['sign-de', 'credentials', 'create', '--json'], env)
      assert.equal(made.code, 0, made.stderr)
      const credentials = JSON.parse(made.stdout) as { api_key: string; api_secret: string }
      deSecrets.push(credentials.api_secret)
      const grant = await json('POST', '/api/v2/auth', credentials)
      const refreshed = await json('POST', '/api/v2/auth', { refresh_token: grant.refresh_token })
      // Rotated: the refresh token that was just used is refused the second time.
      const reused = await fetch(`${base}/api/v2/auth`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: grant.refresh_token }),
      })
      assert.equal(reused.status, 401, await reused.text())
      deSecrets.push(grant.access_token, grant.refresh_token, refreshed.access_token, refreshed.refresh_token)
      const bearer = { authorization: `Bearer ${grant.access_token}` }
      const tssId = randomUUID()
      const created = await json('PUT', `/api/v2/tss/${tssId}`, {}, bearer)
      const pin = `${randomUUID().replace(/-/g, '').slice(0, 12)}`
      deSecrets.push(created.admin_puk, pin)
      await json('PATCH', `/api/v2/tss/${tssId}`, { state: 'UNINITIALIZED' }, bearer)
      await json(
        'PATCH',
        `/api/v2/tss/${tssId}/admin`,
        { admin_puk: created.admin_puk, new_admin_pin: pin },
        bearer,
      )
      await json('POST', `/api/v2/tss/${tssId}/admin/auth`, { admin_pin: pin }, bearer)
      await json('PATCH', `/api/v2/tss/${tssId}`, { state: 'INITIALIZED' }, bearer)
      const clientId = randomUUID()
      await json('PUT', `/api/v2/tss/${tssId}/client/${clientId}`, { serial_number: 'POS-1' }, bearer)
      const txId = randomUUID()
      await json(
        'PUT',
        `/api/v2/tss/${tssId}/tx/${txId}?tx_revision=1`,
        { state: 'ACTIVE', client_id: clientId },
        bearer,
      )
      await json(
        'PUT',
        `/api/v2/tss/${tssId}/tx/${txId}?tx_revision=2`,
        {
          state: 'FINISHED',
          client_id: clientId,
          schema: {
            standard_v1: {
              receipt: {
                receipt_type: 'RECEIPT',
                amounts_per_vat_rate: [{ vat_rate: 'NORMAL', amount: '10.00' }],
                amounts_per_payment_type: [{ payment_type: 'CASH', amount: '10.00' }],
              },
            },
          },
        },
        bearer,
      )
      // A wrong PIN and a wrong secret are refused, and must not be logged either.
      const wrongPin = `${pin}x`
      const wrongSecret = `${credentials.api_secret.slice(0, -2)}zz`
      deSecrets.push(wrongPin, wrongSecret)
      assert.equal(
        (
          await fetch(`${base}/api/v2/tss/${tssId}/admin/auth`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...bearer },
            body: JSON.stringify({ admin_pin: wrongPin }),
          })
        ).status,
        401,
      )
      assert.equal(
        (
          await fetch(`${base}/api/v2/auth`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ...credentials, api_secret: wrongSecret }),
          })
        ).status,
        401,
      )

      // Austria: a cash box provisioned with a known AES key and an imported device key, then receipts.
      const atMade = await runCli(['cashbox', 'create', '--country', 'AT', '--json'], env)
      assert.equal(atMade.code, 0, atMade.stderr)
      const atBox = JSON.parse(atMade.stdout) as { cashboxId: string; accessToken: string }
      tokens.push(atBox.accessToken)
      const atAuth = { 'x-cashbox-id': atBox.cashboxId, 'x-cashbox-accesstoken': atBox.accessToken }
      const aesKey = randomBytes(32)
      const deviceKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
      plainKeys.push(aesKey, deviceKey.export({ type: 'pkcs8', format: 'der' }), rawScalar(deviceKey))
      const provisioned = await json(
        'PUT',
        '/at/v1/cashbox',
        {
          kassenId: 'KASSE-SEC-1',
          aesKey: aesKey.toString('base64'),
          companyId: 'U:ATU12345678',
          devices: [
            { number: 0, privateKey: deviceKey.export({ type: 'pkcs8', format: 'der' }).toString('base64') },
            { number: 1 },
          ],
        },
        atAuth,
      )
      assert.equal(provisioned.aesKey, undefined, 'a given AES key is not echoed')
      const moment = new Date().toISOString()
      for (const [reference, ftReceiptCase, amount] of [
        ['S1', '0x4154200000004001', undefined],
        ['B1', '0x4154200000000001', '4.20'],
      ] as const) {
        await json(
          'POST',
          '/v2/sign',
          {
            cbReceiptReference: reference,
            cbReceiptMoment: moment,
            ftReceiptCase,
            cbChargeItems: amount
              ? [
                  {
                    Quantity: 1,
                    Description: 'Melange',
                    Amount: amount,
                    VATRate: 20,
                    ftChargeItemCase: '0x4154200000000003',
                  },
                ]
              : [],
            cbPayItems: amount
              ? [{ Description: 'Bar', Amount: amount, ftPayItemCase: '0x4154200000000001' }]
              : [],
          },
          { ...atAuth, 'x-operation-id': randomUUID() },
        )
      }
      const dep7 = await fetch(`${base}/at/v1/dep7`, { headers: atAuth })
      assert.equal(dep7.status, 200)

      // A payment and an issued receipt of the EU cash box.
      await json(
        'POST',
        '/v2/pay',
        { Action: 'payment', Protocol: 'simulator', cbPayItem: { Description: 'Card', Amount: 5 } },
        { ...auth(), 'x-operation-id': randomUUID() },
      )
      const request = { ...receipt(), cbReceiptMoment: new Date().toISOString() }
      const signed = await json('POST', '/v2/sign', request, { ...auth(), 'x-operation-id': randomUUID() })
      const issued = await json(
        'POST',
        '/v2/issue',
        { ReceiptRequest: request, ReceiptResponse: signed },
        auth(),
      )
      assert.equal((await fetch(issued.DocumentURL)).status, 200)
      assert.ok(issued.DocumentURL.startsWith(`${base}/r/`), 'PUBLIC_URL unset: the address it listens on')
      // A Host header of the attacker's choosing does not come back in the link.
      const hostile = await requestFrom(
        '127.0.0.1',
        `${base}/v2/issue`,
        { ...auth(), host: 'evil.example.com"><script>alert(1)</script>' },
        JSON.stringify({ ReceiptRequest: request, ReceiptResponse: signed }),
      )
      assert.equal(hostile.status, 200, hostile.text)
      assert.equal(JSON.parse(hostile.text).DocumentURL, issued.DocumentURL)
    })

    it(`answers 429 with Retry-After after ${BURST} bad credentials from one address, even to the right token, and not to other addresses`, async () => {
      const base = (server as Server).baseUrl
      const guesses: number[] = []
      for (let i = 0; i < BURST + 3; i++) {
        const guess = `guess-${randomUUID()}`
        tokens.push(guess)
        const reply = await requestFrom(
          '127.0.0.2',
          `${base}/v2/echo`,
          { ...auth(), 'x-cashbox-accesstoken': guess },
          '{"Message":"x"}',
        )
        guesses.push(reply.status)
        if (reply.status === 429) {
          const problem = JSON.parse(reply.text)
          assert.equal(problem.error, 'rate_limited')
          assert.ok(Number(reply.headers['retry-after']) >= 1, 'Retry-After says when to come back')
          assert.match(String(reply.headers['content-type']), /^application\/problem\+json/)
        }
      }
      assert.deepEqual(guesses, [...Array(BURST).fill(401), ...Array(3).fill(429)])
      // No oracle while limited: the right token from the same address is not even checked.
      const right = await requestFrom('127.0.0.2', `${base}/v2/echo`, auth(), '{"Message":"x"}')
      assert.equal(right.status, 429)
      // Another address is not punished for it.
      const elsewhere = await requestFrom('127.0.0.3', `${base}/v2/echo`, auth(), '{"Message":"x"}')
      assert.equal(elsewhere.status, 200, elsewhere.text)
    })

    it(`one failed-login budget for every surface: ${BURST} failures spread over them lock the address out of all, with no 401-versus-409 oracle`, async () => {
      const base = (server as Server).baseUrl
      const account = await requestFrom(
        '127.0.0.1',
        `${base}/v1/accounts`,
        { 'content-type': 'application/json' },
        JSON.stringify({ name: 'brute force', billing_email: `${randomUUID()}@example.com` }),
      )
      assert.equal(account.status, 201, account.text)
      const apiKey = JSON.parse(account.text).api_key as string
      tokens.push(apiKey)
      const made = await runCli(['sign-de', 'credentials', 'create', '--json'], env)
      const credentials = JSON.parse(made.stdout) as { api_key: string; api_secret: string }
      deSecrets.push(credentials.api_secret)
      const grant = await requestFrom(
        '127.0.0.1',
        `${base}/api/v2/auth`,
        { 'content-type': 'application/json' },
        JSON.stringify(credentials),
      )
      assert.equal(grant.status, 200, grant.text)
      const accessToken = JSON.parse(grant.text).access_token as string
      deSecrets.push(accessToken, JSON.parse(grant.text).refresh_token)

      const guess = `guess-${randomUUID()}`
      tokens.push(guess)
      /** Each surface's credential check, with the right credentials or with a guess. */
      const surfaces = (
        right: boolean,
      ): Array<{ url: string; headers: Record<string, string>; body?: string }> => [
        {
          url: '/at/v1/cashbox',
          headers: { ...auth(), ...(right ? {} : { 'x-cashbox-accesstoken': guess }) },
        },
        { url: '/de/v1/tss', headers: { ...auth(), ...(right ? {} : { 'x-cashbox-accesstoken': guess }) } },
        {
          url: '/es/v1/cashbox',
          headers: { ...auth(), ...(right ? {} : { 'x-cashbox-accesstoken': guess }) },
        },
        { url: '/v1/api-keys', headers: { authorization: `Bearer ${right ? apiKey : `fsk_test_${guess}`}` } },
        { url: '/api/v2/tss', headers: { authorization: `Bearer ${right ? accessToken : guess}` } },
        {
          url: '/api/v2/auth',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...credentials, ...(right ? {} : { api_secret: guess }) }),
        },
      ]
      // From a fresh address the right credentials pass the check: a non-Austrian cash box on /at/v1 is the
      // 409 that, next to a 401, would tell a guesser that the token was right.
      const fresh = await Promise.all(
        surfaces(true).map((s) => requestFrom('127.0.0.5', `${base}${s.url}`, s.headers, s.body)),
      )
      assert.deepEqual(
        fresh.map((r) => r.status),
        [409, 409, 409, 200, 200, 200],
        fresh.map((r) => r.text).join('\n'),
      )

      const guesses = []
      for (const s of [...surfaces(false), ...surfaces(false)].slice(0, BURST + 2))
        guesses.push((await requestFrom('127.0.0.4', `${base}${s.url}`, s.headers, s.body)).status)
      assert.deepEqual(guesses, [...Array(BURST).fill(401), 429, 429], 'one budget, whatever the surface')
      const locked = await Promise.all(
        surfaces(true).map((s) => requestFrom('127.0.0.4', `${base}${s.url}`, s.headers, s.body)),
      )
      for (const [i, reply] of locked.entries()) {
        assert.equal(
          reply.status,
          429,
          `${surfaces(true)[i]?.url}: the right credentials are not checked either`,
        )
        assert.ok(Number(reply.headers['retry-after']) >= 1, 'Retry-After says when to come back')
      }
      const signDe = JSON.parse(locked[4]?.text ?? '{}')
      assert.deepEqual(Object.keys(signDe).sort(), ['code', 'error', 'message', 'status_code'])
      assert.equal(signDe.code, 'E_RATE_LIMITED')
    })

    it('a path that leaves /docs/static is a path error (400 invalid_path naming url), never a file', async () => {
      const base = (server as Server).baseUrl
      for (const path of [
        '/docs/static/../../package.json',
        '/docs/static/%2e%2e/%2e%2e/package.json',
        '/v2/%zz',
      ]) {
        const reply = await rawRequest(base, path)
        assert.equal(reply.status, 400, `${path}: ${reply.text}`)
        const problem = JSON.parse(reply.text)
        assert.equal(problem.error, 'invalid_path', reply.text)
        assert.equal(problem.title, 'Invalid path')
        assert.equal(problem.details.field, 'url')
        assert.doesNotMatch(reply.text, /"fiscalbox"|devDependencies/, 'no file outside the folder')
      }
    })

    it('a body announced over BODY_LIMIT is answered 413 while the client still writes, without a reset connection', async () => {
      const base = (server as Server).baseUrl
      // Three times each: with a server that closes at once, a reset reaches the client first most of the time.
      for (const path of [
        '/v2/sign',
        '/api/v2/auth',
        '/v2/sign',
        '/api/v2/auth',
        '/v2/sign',
        '/api/v2/auth',
      ]) {
        const reply = await rawRequest(
          base,
          path,
          { ...auth(), 'x-operation-id': randomUUID() },
          5 * 1024 * 1024,
        )
        assert.equal(reply.status, 413, reply.text)
        assert.match(reply.text, path === '/v2/sign' ? /payload_too_large/ : /E_PAYLOAD_TOO_LARGE/)
      }
    })

    it('the captured log holds request lines but no token, right or guessed, and no master key', async (t) => {
      await (server as Server).stop('SIGTERM')
      const output = (server as Server).output()
      logs = output.stdout + output.stderr
      const lines = logs.split('\n').filter((l) => l.startsWith('{'))
      assert.ok(lines.filter((l) => l.includes('"req"')).length >= 10, 'LOG_LEVEL=info logs every request')
      // The banner (stdout, not a log line) prints the demo token once by design; the log lines never.
      for (const token of tokens) {
        const hits = lines.filter((l) => l.includes(token))
        assert.deepEqual(hits, [], `a log line holds the token ${token.slice(0, 6)}...`)
      }
      assert.ok(!logs.includes(masterKey), 'the master key is never printed')
      for (const secret of deSecrets)
        assert.ok(!logs.includes(secret), `the output holds a SIGN DE secret ${secret.slice(0, 6)}...`)
      for (const key of plainKeys)
        for (const form of encodings(key).filter((f) => typeof f === 'string'))
          assert.ok(!logs.includes(form), 'the output holds a key the suite gave the server')
      assert.ok(
        lines.some((l) => l.includes('/api/v2/')),
        'the SIGN DE requests were logged',
      )
      t.diagnostic(
        `security/${engine}: ${lines.length} log lines searched for ${deSecrets.length} SIGN DE secrets (api_secret, JWTs, refresh tokens, PIN, PUK, wrong ones too), ${plainKeys.length} keys, and ${tokens.length} tokens (${tokens.filter((x) => x.startsWith('guess-')).length} of them guessed), 0 found`,
      )
    })

    it('the stored data holds no plaintext token, no private key and no master key', async (t) => {
      const bytes = await storedBytes(engine, dataDir, databaseUrl)
      assert.ok(bytes.length > 10_000, 'the data was read')
      assert.ok(bytes.includes(cashbox.cashboxId), 'the search sees the stored rows')
      for (const token of tokens)
        assert.ok(!bytes.includes(token), `a token is stored in plaintext: ${token.slice(0, 6)}...`)
      assert.equal(findPrivateKey(bytes), undefined, 'a private key is stored in plaintext')
      assert.ok(!bytes.includes(masterKey), 'the master key is stored with the data')
      for (const secret of deSecrets)
        assert.ok(
          !bytes.includes(secret),
          `a SIGN DE secret is stored in plaintext: ${secret.slice(0, 6)}...`,
        )
      // Every sealed column opens with the master key (so it is sealed, not plaintext), and its plaintext, in
      // any encoding, is nowhere in the stored bytes: TSS and AT device private keys, AT AES keys, the JWT key.
      const sealed = await sealedValues(engine, dataDir, databaseUrl)
      const master = MasterKey.fromText(masterKey)
      const opened = [...plainKeys]
      for (const { column, value } of sealed) {
        const plaintext = master.decrypt(value)
        opened.push(plaintext)
        if (/private_key/.test(column))
          opened.push(rawScalar(createPrivateKey({ key: plaintext, format: 'der', type: 'pkcs8' })))
      }
      for (const column of [
        'de_tss.private_key_encrypted',
        'at_cashboxes.aes_key_encrypted',
        'at_signature_devices.private_key_encrypted',
        'signing_keys.private_key_encrypted',
      ])
        assert.ok(
          sealed.some((s) => s.column === column),
          `no sealed ${column} was found to check`,
        )
      let forms = 0
      for (const key of opened)
        for (const form of encodings(key)) {
          forms += 1
          assert.ok(
            !bytes.includes(form),
            `a sealed secret is also stored in plaintext (${form.length} bytes)`,
          )
        }
      t.diagnostic(
        `security/${engine}: ${bytes.length} bytes of stored data searched: 0 tokens, 0 private keys, 0 master keys; ${deSecrets.length} SIGN DE secrets (api_secret, JWTs, refresh tokens, PIN, PUK) 0 found; ${sealed.length} sealed values (${[...new Set(sealed.map((s) => s.column))].join(', ')}) opened with the master key, their ${forms} plaintext forms 0 found`,
      )
      // The detector finds a plaintext key when there is one (else this test could not fail).
      const plain = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
        type: 'pkcs8',
        format: 'der',
      })
      for (const encoded of [
        plain,
        Buffer.from(plain.toString('base64')),
        Buffer.from(plain.toString('hex')),
      ])
        assert.notEqual(findPrivateKey(Buffer.concat([bytes, encoded])), undefined)
      // The demo cash box's credentials are kept beside the data to print them again: readable by the owner only.
      const demoFile = join(dataDir, 'demo-cashbox.json')
      if (readdirSync(dataDir).includes('demo-cashbox.json')) assert.equal(statSync(demoFile).mode & 0o077, 0)
      if (engine === 'sqlite') {
        // As the master key: only the server's user reads the database, its WAL and its shared memory.
        const files = readdirSync(dataDir).filter((name) => name.startsWith('fiscalbox.db'))
        assert.deepEqual(files.sort(), ['fiscalbox.db', 'fiscalbox.db-shm', 'fiscalbox.db-wal'])
        for (const name of files)
          assert.equal(
            (statSync(join(dataDir, name)).mode & 0o777).toString(8),
            '600',
            `${name} is mode 0600`,
          )
      }
    })

    it('a wrong master key stops the server at start, loudly, before it listens', async () => {
      const wrong = await startServe({ ...env, FISCALBOX_MASTER_KEY: newMasterKey() })
      if (wrong.started) await wrong.server.stop('SIGKILL')
      assert.equal(wrong.started, false, 'the server must not start with a wrong master key')
      if (!wrong.started) {
        assert.notEqual(wrong.code, 0)
        assert.match(wrong.stderr, /wrong master key/)
        assert.doesNotMatch(wrong.stdout, /listening/)
      }
    })
  })
}
