import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { cliEnv, runCli, type Server, startServer, UUID } from '../cli/cli-process.ts'
import { engines, freshPostgresDatabase, PG_ADMIN_URL } from '../helpers/engines.ts'

/**
 * Several stateless nodes on one PostgreSQL: three real `fiscalbox serve` processes share a database and a
 * master key, and receive interleaved receipts for the same cash boxes, including the same operation sent
 * to two nodes at once. The queue row lock must keep every queue gapless and every operation signed once.
 */

const NODES = 3
const CASHBOXES = 5
const OPERATIONS = 1_500
const DUPLICATED_EVERY = 15 // 100 of the 1,500 operations go to two nodes at the same time
const WORKERS = 32

interface Cashbox {
  cashboxId: string
  accessToken: string
  queueId: string
}

interface Answer {
  node: number
  status: number
  text: string
}

interface Operation {
  cashbox: Cashbox
  operationId: string
  body: string
  duplicated: boolean
  answers: Answer[]
}

interface QueueItemEntry {
  ftQueueItemId: string
  ftQueueRow: number
  operationId: string
  response: unknown
}

interface ReceiptJournalEntry {
  ftReceiptNumber: number
  ftQueueRow: number
  ftQueueItemId: string
  PreviousHash: string
  ftReceiptHash: string
}

const postgres = (await engines()).includes('postgres')

const skip = postgres
  ? false
  : `multinode suite SKIPPED: it needs PostgreSQL, and none answers at ${PG_ADMIN_URL} (set FISCALBOX_TEST_PG_URL)`

describe('multinode: three fiscalbox servers on one PostgreSQL database', { skip }, () => {
  let root: string
  let dropDatabase: (() => Promise<void>) | undefined
  let cliEnvironment: NodeJS.ProcessEnv
  const servers: Server[] = []
  const cashboxes: Cashbox[] = []
  const operations: Operation[] = []
  /** `cashbox list --json` as read by the export test, reused to save a process. */
  let listed: Array<{ cashboxId: string; label: string }> | undefined

  const headers = (cashbox: Cashbox, operationId?: string): Record<string, string> => ({
    'content-type': 'application/json',
    'x-cashbox-id': cashbox.cashboxId,
    'x-cashbox-accesstoken': cashbox.accessToken,
    ...(operationId ? { 'x-operation-id': operationId } : {}),
  })

  async function send(node: number, cashbox: Cashbox, operationId: string, body: string): Promise<Answer> {
    const server = servers[node]
    assert.ok(server)
    try {
      const res = await fetch(`${server.baseUrl}/v2/sign`, {
        method: 'POST',
        headers: headers(cashbox, operationId),
        body,
      })
      return { node, status: res.status, text: await res.text() }
    } catch (error) {
      return { node, status: -1, text: String(error) }
    }
  }

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'fiscalbox-multinode-'))
    const database = await freshPostgresDatabase()
    dropDatabase = database.drop
    const masterKey = randomBytes(32).toString('hex')
    const shared = {
      DATABASE_URL: database.url,
      FISCALBOX_MASTER_KEY: masterKey,
      // Three nodes share one server's connections with the other suites.
      PG_POOL_SIZE: '8',
    }
    // One data directory per node, as on separate machines: only the database and the key are shared.
    const started = await Promise.allSettled(
      Array.from({ length: NODES }, (_, i) => {
        const dataDir = join(root, `node-${i}`)
        mkdirSync(dataDir)
        return startServer(cliEnv({ ...shared, FISCALBOX_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }))
      }),
    )
    for (const outcome of started) if (outcome.status === 'fulfilled') servers.push(outcome.value)
    const failed = started.find((outcome) => outcome.status === 'rejected')
    if (failed) throw (failed as PromiseRejectedResult).reason
    mkdirSync(join(root, 'cli'))
    cliEnvironment = cliEnv({ ...shared, FISCALBOX_DATA_DIR: join(root, 'cli') })
  })

  after(async () => {
    // Runs whatever failed: no server may outlive the suite, and the database goes with it.
    await Promise.all(servers.map((server) => server.stop('SIGKILL')))
    await dropDatabase?.()
    if (root) rmSync(root, { recursive: true, force: true })
  })

  it('three nodes listen on their own ports', () => {
    assert.equal(servers.length, NODES)
    assert.equal(new Set(servers.map((s) => s.port)).size, NODES)
  })

  it(`creates ${CASHBOXES} cash boxes with the CLI`, async () => {
    const results = await Promise.all(
      Array.from({ length: CASHBOXES }, (_, i) =>
        runCli(['cashbox', 'create', '--country', 'EU', '--label', `till ${i}`, '--json'], cliEnvironment),
      ),
    )
    for (const result of results) {
      assert.equal(result.code, 0, result.stderr)
      const created = JSON.parse(result.stdout) as Cashbox
      assert.match(created.cashboxId, UUID)
      cashboxes.push(created)
    }
  })

  it('starts every cash box with a start receipt, on different nodes', async () => {
    assert.equal(cashboxes.length, CASHBOXES)
    const answers = await Promise.all(
      cashboxes.map((cashbox, i) =>
        send(
          i % NODES,
          cashbox,
          randomUUID(),
          JSON.stringify({
            cbReceiptReference: `start-${i}`,
            cbReceiptMoment: new Date().toISOString(),
            ftReceiptCase: '0x4555200000004001',
            cbChargeItems: [],
            cbPayItems: [],
          }),
        ),
      ),
    )
    for (const answer of answers) {
      assert.equal(answer.status, 200, answer.text)
      assert.equal(JSON.parse(answer.text).ftQueueRow, 1)
    }
  })

  it(`signs ${OPERATIONS} receipts round-robin across the nodes, ${WORKERS} at a time`, async () => {
    assert.equal(cashboxes.length, CASHBOXES)
    for (let k = 0; k < OPERATIONS; k++) {
      const cashbox = cashboxes[k % CASHBOXES] as Cashbox
      const amount = `${(k % 97) + 1}.${String(k % 100).padStart(2, '0')}`
      operations.push({
        cashbox,
        operationId: randomUUID(),
        duplicated: k % DUPLICATED_EVERY === DUPLICATED_EVERY - 1,
        answers: [],
        body: JSON.stringify({
          cbReceiptReference: `R-${k}`,
          cbReceiptMoment: new Date().toISOString(),
          ftReceiptCase: '0x4555200000000001',
          cbChargeItems: [
            {
              Quantity: 1,
              Description: `item ${k}`,
              Amount: amount,
              VATRate: 20,
              ftChargeItemCase: '0x4555200000000013',
            },
          ],
          cbPayItems: [{ Description: 'Card', Amount: amount, ftPayItemCase: '0x4555200000000005' }],
        }),
      })
    }
    let next = 0
    let turn = 0
    const worker = async () => {
      for (let op = operations[next++]; op; op = operations[next++]) {
        const node = turn++ % NODES
        const targets = op.duplicated ? [node, (node + 1) % NODES] : [node]
        const current = op
        current.answers = await Promise.all(
          targets.map((target) => send(target, current.cashbox, current.operationId, current.body)),
        )
      }
    }
    await Promise.all(Array.from({ length: WORKERS }, worker))

    const bad = operations.flatMap((op) =>
      op.answers.filter((a) => a.status !== 200).map((a) => `node ${a.node}: ${a.status} ${a.text}`),
    )
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} requests were not answered with 200`)
    assert.equal(operations.filter((op) => op.duplicated).length, OPERATIONS / DUPLICATED_EVERY)
  })

  it('both nodes gave the same bytes for every duplicated operation', () => {
    const duplicated = operations.filter((op) => op.duplicated)
    assert.ok(duplicated.length > 0)
    for (const op of duplicated) {
      assert.equal(op.answers.length, 2)
      const [first, second] = op.answers as [Answer, Answer]
      assert.notEqual(first.node, second.node, 'the two copies went to different nodes')
      assert.equal(first.text, second.text, `operation ${op.operationId}: nodes answered differently`)
    }
  })

  /** Reads a whole journal through one node's API, page by page with x-next-after. */
  async function readJournal<T>(node: number, cashbox: Cashbox, type: string, limit: number): Promise<T[]> {
    const server = servers[node] as Server
    const entries: T[] = []
    let after = 0
    for (;;) {
      const res = await fetch(
        `${server.baseUrl}/v2/journal/${cashbox.queueId}/${type}?after=${after}&limit=${limit}`,
        {
          headers: headers(cashbox),
        },
      )
      assert.equal(res.status, 200)
      entries.push(...((await res.json()) as T[]))
      const nextAfter = res.headers.get('x-next-after')
      if (!nextAfter) return entries
      after = Number(nextAfter)
    }
  }

  it('every queue has rows 1..N and receipt numbers 1..N, without gaps, duplicates or forks', async () => {
    assert.equal(cashboxes.length, CASHBOXES)
    await Promise.all(
      cashboxes.map(async (cashbox, i) => {
        const expected = 1 + operations.filter((op) => op.cashbox === cashbox).length
        const oneToN = Array.from({ length: expected }, (_, n) => n + 1)
        const [items, receipts] = await Promise.all([
          readJournal<QueueItemEntry>(i % NODES, cashbox, 'QueueItem', 128),
          readJournal<ReceiptJournalEntry>((i + 1) % NODES, cashbox, 'ReceiptJournal', 128),
        ])
        assert.deepEqual(
          items.map((item) => item.ftQueueRow),
          oneToN,
          `queue rows of cash box ${i}`,
        )
        assert.deepEqual(
          receipts.map((entry) => entry.ftReceiptNumber),
          oneToN,
          `receipt numbers of cash box ${i}`,
        )
        assert.deepEqual(
          receipts.map((entry) => entry.ftQueueRow),
          oneToN,
          `every queue item of cash box ${i} is a signed receipt`,
        )
        receipts.forEach((entry, n) => {
          if (n > 0) assert.equal(entry.PreviousHash, receipts[n - 1]?.ftReceiptHash, `chain at ${n + 1}`)
        })
      }),
    )
  })

  it('every operation, duplicated or not, produced exactly one queue item holding the answer given', async () => {
    await Promise.all(
      cashboxes.map(async (cashbox, i) => {
        const items = await readJournal<QueueItemEntry>((i + 2) % NODES, cashbox, 'QueueItem', 1000)
        const byOperation = new Map<string, QueueItemEntry[]>()
        for (const item of items)
          byOperation.set(item.operationId, [...(byOperation.get(item.operationId) ?? []), item])
        for (const op of operations.filter((o) => o.cashbox === cashbox)) {
          const stored = byOperation.get(op.operationId) ?? []
          assert.equal(stored.length, 1, `operation ${op.operationId} has ${stored.length} queue items`)
          const answer = JSON.parse(op.answers[0]?.text ?? '{}')
          assert.equal(answer.ftQueueItemID, stored[0]?.ftQueueItemId)
          assert.deepEqual(stored[0]?.response, answer, 'the stored response is the one that was sent')
        }
        // Start receipt plus one item per operation: nothing signed twice, nothing extra.
        assert.equal(items.length, 1 + operations.filter((o) => o.cashbox === cashbox).length)
      }),
    )
  })

  it('an export of every cash box passes `fiscalbox verify`', async () => {
    const list = await runCli(['cashbox', 'list', '--json'], cliEnvironment)
    assert.equal(list.code, 0, list.stderr)
    const all = JSON.parse(list.stdout) as Array<{ cashboxId: string; label: string }>
    listed = all
    for (const cashbox of cashboxes) assert.ok(all.some((c) => c.cashboxId === cashbox.cashboxId))
    const files = cashboxes.map((_, i) => join(root, `journal-${i}.jsonl`))
    const exports = await Promise.all(
      cashboxes.map((cashbox, i) =>
        runCli(
          ['export', 'journal', '--cashbox', cashbox.cashboxId, '--out', files[i] as string],
          cliEnvironment,
        ),
      ),
    )
    exports.forEach((result, i) => {
      const expected = 1 + operations.filter((op) => op.cashbox === cashboxes[i]).length
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, new RegExp(`^wrote ${expected} receipts`))
    })
    const verified = await Promise.all(files.map((file) => runCli(['verify', file], cliEnvironment)))
    verified.forEach((result, i) => {
      const expected = 1 + operations.filter((op) => op.cashbox === cashboxes[i]).length
      assert.equal(result.code, 0, `cash box ${i}: ${result.stdout}${result.stderr}`)
      assert.match(result.stdout, new RegExp(`^OK: ${expected} receipts, chain verified`))
    })
  })

  it('every node shuts down cleanly on SIGTERM', async () => {
    const exits = await Promise.all(servers.map((server) => server.stop('SIGTERM')))
    assert.deepEqual(
      exits,
      servers.map(() => ({ code: 0, signal: null })),
    )
  })

  it('nodes starting together on an empty database create one demo cash box between them', async () => {
    if (!listed) {
      const list = await runCli(['cashbox', 'list', '--json'], cliEnvironment)
      listed = JSON.parse(list.stdout) as Array<{ cashboxId: string; label: string }>
    }
    const demos = listed.filter((c) => c.label === 'demo cash box')
    assert.equal(demos.length, 1)
  })
})
