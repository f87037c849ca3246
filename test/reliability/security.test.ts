import assert from 'node:assert/strict'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, test } from 'node:test'
import pg from 'pg'
import { type Pos, receipt, startedPos } from '../api/support.ts'
import { runCli, type Server, startServe, startServer } from '../cli/cli-process.ts'
import { engines, freshPostgresDatabase } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
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
      t.diagnostic(
        `security/${engine}: ${lines.length} log lines searched for ${tokens.length} tokens (${tokens.filter((x) => x.startsWith('guess-')).length} of them guessed), 0 found`,
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
      t.diagnostic(
        `security/${engine}: ${bytes.length} bytes of stored data searched: 0 tokens, 0 private keys, 0 master keys`,
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
