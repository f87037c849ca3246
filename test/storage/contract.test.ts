import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { sql, type Transaction } from 'kysely'
import type {
  ActionJournalRecord,
  Ledger,
  NewCashbox,
  OperationRecord,
  QueueItemRecord,
  QueueWork,
  ReceiptJournalRecord,
} from '../../src/core/ports.ts'
import { newTotalizers } from '../../src/core/totalizers.ts'
import { openStorage, type Storage } from '../../src/storage/database.ts'
import { migrations as allMigrations } from '../../src/storage/migrations/index.ts'
import { cashboxRepository, metaRepository } from '../../src/storage/repositories/cashboxes.ts'
import { journalRepository } from '../../src/storage/repositories/journal.ts'
import { createLedger } from '../../src/storage/repositories/ledger.ts'
import type { Database } from '../../src/storage/schema.ts'
import { engines, freshPostgresDatabase } from '../helpers/engines.ts'

/**
 * The storage contract: every engine behind openStorage() keeps the same promises, checked through the
 * repositories that the core uses (src/core/ports.ts), never through engine-specific SQL.
 */

const ACCOUNT = '00000000-0000-4000-8000-00000000000a'
const BASE_MOMENT = Date.parse('2026-03-01T08:00:00.000Z')
const momentOf = (i: number) => new Date(BASE_MOMENT + i * 60_000).toISOString()

function newCashbox(): NewCashbox & { queueId: string } {
  const id = randomUUID()
  const queueId = randomUUID()
  return {
    queueId,
    cashbox: {
      id,
      accountId: ACCOUNT,
      country: 'EU',
      label: `contract ${id.slice(0, 8)}`,
      accessTokenHash: 'f'.repeat(64),
      createdAt: new Date().toISOString(),
    },
    accountName: 'contract tests',
    queue: { id: queueId, countryCode: 0x4555, genesisHash: '0'.repeat(64), totalizers: newTotalizers() },
    key: { queueId, algorithm: 'test', publicKey: `public ${queueId}`, privateKeyEncrypted: 'sealed' },
  }
}

function queueItem(queueId: string, row: number, operationId: string, moment: string): QueueItemRecord {
  return {
    id: randomUUID(),
    queueId,
    row,
    operationId,
    cbReceiptReference: `ref-${row}`,
    cbTerminalId: null,
    ftReceiptCase: '0x4555200000000001',
    cbReceiptMoment: moment,
    ftMoment: moment,
    request: JSON.stringify({ row }),
    requestHash: `request-${row}`,
    response: JSON.stringify({ ftQueueRow: row }),
    responseHash: `response-${row}`,
    ftState: '0x4555200000000000',
  }
}

function receiptEntry(item: QueueItemRecord, number: number): ReceiptJournalRecord {
  return {
    id: randomUUID(),
    queueId: item.queueId,
    number,
    queueItemId: item.id,
    queueRow: item.row,
    moment: item.ftMoment,
    receiptCase: item.ftReceiptCase,
    total: `${number}.00`,
    requestHash: item.requestHash,
    responseHash: item.responseHash,
    previousHash: `hash-${number - 1}`,
    hash: `hash-${number}`,
  }
}

function actionEntry(item: QueueItemRecord, number: number): ActionJournalRecord {
  return {
    id: randomUUID(),
    queueId: item.queueId,
    number,
    queueItemId: item.id,
    moment: item.ftMoment,
    type: 'test',
    message: `action ${number}`,
    data: '{}',
  }
}

function operation(cashboxId: string, operationId: string, queueItemId: string): OperationRecord {
  return {
    cashboxId,
    operationId,
    kind: 'sign',
    requestHash: `request ${operationId}`,
    queueItemId,
    createdAt: new Date().toISOString(),
  }
}

/**
 * One receipt the way the sign service writes it: lock the queue, take the next row and number, write the
 * queue item, its journal entries and its operation, save the counters. `between` runs after the queue was
 * read and before anything is written: a database round trip there gives other units every chance to
 * interleave if the lock does not hold them off.
 */
async function writeReceipt(
  work: QueueWork,
  box: { id: string; queueId: string },
  options: {
    operationId?: string
    between?: () => Promise<unknown>
    withAction?: boolean
    /** Told about the queue item as soon as it is written, before anything that may fail after it. */
    onItem?: (item: QueueItemRecord) => void
  } = {},
): Promise<QueueItemRecord> {
  const queue = await work.lockQueue(box.queueId)
  const operationId = options.operationId ?? randomUUID()
  await options.between?.()
  const row = queue.currentRow + 1
  const item = queueItem(box.queueId, row, operationId, momentOf(row))
  await work.insertQueueItem(item)
  options.onItem?.(item)
  const number = queue.receiptNumerator + 1
  await work.insertReceiptJournal(receiptEntry(item, number))
  if (options.withAction) {
    queue.actionNumerator += 1
    await work.insertActionJournal(actionEntry(item, queue.actionNumerator))
  }
  queue.currentRow = row
  queue.receiptNumerator = number
  queue.lastReceiptHash = `hash-${number}`
  await work.saveQueue(queue)
  await work.insertOperation(operation(box.id, operationId, item.id))
  return item
}

async function queueRows(storage: Storage, queueId: string) {
  const rows = await storage.db
    .selectFrom('queue_items')
    .select(['row', 'id'])
    .where('queue_id', '=', queueId)
    .orderBy('row')
    .execute()
  const numbers = await storage.db
    .selectFrom('receipt_journal')
    .select('number')
    .where('queue_id', '=', queueId)
    .orderBy('number')
    .execute()
  const queue = await journalRepository(storage).queue(queueId)
  return {
    rows: rows.map((r) => r.row),
    ids: new Set(rows.map((r) => r.id)),
    numbers: numbers.map((n) => n.number),
    currentRow: queue?.current_row,
    receiptNumerator: queue?.receipt_numerator,
  }
}

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1)

for (const engine of await engines()) {
  describe(`storage contract (${engine})`, () => {
    let url: string
    let dataDir: string
    let dropDatabase: (() => Promise<void>) | undefined
    let storage: Storage
    let ledger: Ledger

    const addCashbox = async () => {
      const box = newCashbox()
      await cashboxRepository(storage).insert(box)
      return { id: box.cashbox.id, queueId: box.queueId }
    }

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), `fiscalbox-contract-${engine}-`))
      if (engine === 'postgres') {
        const database = await freshPostgresDatabase()
        url = database.url
        dropDatabase = database.drop
      } else {
        url = `sqlite:${join(dataDir, 'contract.db')}`
      }
      storage = await openStorage(url, { poolSize: 16 })
      ledger = createLedger(storage)
    })

    after(async () => {
      await storage?.close()
      await dropDatabase?.()
      rmSync(dataDir, { recursive: true, force: true })
    })

    it('reports its engine', () => {
      assert.equal(storage.engine, engine)
    })

    describe('migrations', () => {
      it('are idempotent: opening the database again and again migrates nothing and keeps the data', async () => {
        const box = await addCashbox()
        const migrations = async (s: Storage) =>
          (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(s.db)).rows
        const before = await migrations(storage)
        assert.deepEqual(
          before.map((m) => m.name),
          Object.keys(allMigrations).sort(),
        )
        // Sequentially, then two at once while the first storage is still open.
        const again = await openStorage(url, { poolSize: 2 })
        await again.close()
        const [a, b] = await Promise.all([
          openStorage(url, { poolSize: 2 }),
          openStorage(url, { poolSize: 2 }),
        ])
        try {
          assert.deepEqual(await migrations(a), before)
          assert.deepEqual(await migrations(b), before)
          const found = await cashboxRepository(b).find(box.id)
          assert.equal(found?.queueId, box.queueId)
        } finally {
          await a.close()
          await b.close()
        }
      })
    })

    describe('cash box repository', () => {
      it('inserts a cash box with its queue and key, and finds and lists it', async () => {
        const box = newCashbox()
        const repository = cashboxRepository(storage)
        await repository.insert(box)
        const found = await repository.find(box.cashbox.id)
        assert.deepEqual(found, { ...box.cashbox, queueId: box.queueId })
        assert.ok((await repository.list()).some((c) => c.id === box.cashbox.id))
        assert.deepEqual(await repository.signingKey(box.queueId), box.key)
        assert.equal(await repository.find(randomUUID()), undefined)
        assert.equal(await repository.signingKey(randomUUID()), undefined)
        const queue = await journalRepository(storage).queue(box.queueId)
        assert.equal(queue?.current_row, 0)
        assert.equal(queue?.receipt_numerator, 0)
        assert.equal(typeof queue?.current_row, 'number', 'counters read back as numbers on every engine')
      })

      it('writes all of a cash box or nothing: a clash on the key leaves no cash box and no queue', async () => {
        const first = newCashbox()
        await cashboxRepository(storage).insert(first)
        const clash = newCashbox()
        // Same queue id as the first cash box: the queue insert fails after the cash box row was written.
        const broken = { ...clash, queue: { ...clash.queue, id: first.queueId }, key: { ...clash.key } }
        await assert.rejects(cashboxRepository(storage).insert(broken))
        assert.equal(await cashboxRepository(storage).find(clash.cashbox.id), undefined)
        const orphan = await storage.db
          .selectFrom('cashboxes')
          .select('id')
          .where('id', '=', clash.cashbox.id)
          .executeTakeFirst()
        assert.equal(orphan, undefined)
      })

      it('meta putIfAbsent keeps the first value', async () => {
        const meta = metaRepository(storage)
        const key = `contract-${randomUUID()}`
        assert.equal(await meta.get(key), undefined)
        assert.equal(await meta.putIfAbsent(key, 'first'), 'first')
        assert.equal(await meta.putIfAbsent(key, 'second'), 'first')
        assert.equal(await meta.get(key), 'first')
      })
    })

    describe('unique constraints', () => {
      it('reject a second operation with the same (cash box, operation id), and its whole unit', async () => {
        const box = await addCashbox()
        const operationId = randomUUID()
        await ledger.work((work) => writeReceipt(work, box, { operationId }))
        let written: QueueItemRecord | undefined
        await assert.rejects(
          ledger.work((work) =>
            writeReceipt(work, box, {
              operationId,
              onItem: (item) => {
                written = item
              },
            }),
          ),
        )
        assert.ok(written, 'the unit got as far as the operation insert')
        const state = await queueRows(storage, box.queueId)
        assert.deepEqual(state.rows, [1])
        assert.deepEqual(state.numbers, [1])
        assert.equal(state.currentRow, 1, 'the failed unit saved no counters')
        assert.ok(!state.ids.has(written.id), 'the failed unit left no queue item')
        const stored = await ledger.findOperation(box.id, operationId)
        assert.equal(stored?.operationId, operationId)
      })

      it('allow the same operation id on another cash box', async () => {
        const [a, b] = await Promise.all([addCashbox(), addCashbox()])
        const operationId = randomUUID()
        await ledger.work((work) => writeReceipt(work, a, { operationId }))
        await ledger.work((work) => writeReceipt(work, b, { operationId }))
        const [fromA, fromB] = await Promise.all([
          ledger.findOperation(a.id, operationId),
          ledger.findOperation(b.id, operationId),
        ])
        assert.ok(fromA && fromB)
        assert.notEqual(fromA.queueItemId, fromB.queueItemId)
        assert.equal(await ledger.queueItemResponse(fromA.queueItemId), JSON.stringify({ ftQueueRow: 1 }))
      })

      it('reject a duplicate queue row in one queue, not across queues', async () => {
        const [a, b] = await Promise.all([addCashbox(), addCashbox()])
        await ledger.work(async (work) => {
          await work.insertQueueItem(queueItem(a.queueId, 1, randomUUID(), momentOf(1)))
        })
        await assert.rejects(
          ledger.work(async (work) => {
            await work.insertQueueItem(queueItem(a.queueId, 1, randomUUID(), momentOf(1)))
          }),
        )
        await ledger.work(async (work) => {
          await work.insertQueueItem(queueItem(b.queueId, 1, randomUUID(), momentOf(1)))
        })
        assert.deepEqual((await queueRows(storage, a.queueId)).rows, [1])
        assert.deepEqual((await queueRows(storage, b.queueId)).rows, [1])
      })

      it('reject a duplicate receipt number in one queue', async () => {
        const box = await addCashbox()
        const [first, second] = [1, 2].map((row) =>
          queueItem(box.queueId, row, randomUUID(), momentOf(row)),
        ) as [QueueItemRecord, QueueItemRecord]
        await ledger.work(async (work) => {
          await work.insertQueueItem(first)
          await work.insertReceiptJournal(receiptEntry(first, 1))
        })
        await assert.rejects(
          ledger.work(async (work) => {
            await work.insertQueueItem(second)
            await work.insertReceiptJournal(receiptEntry(second, 1))
          }),
        )
        const state = await queueRows(storage, box.queueId)
        assert.deepEqual(state.numbers, [1])
        assert.deepEqual(state.rows, [1], 'the queue item of the rejected unit was rolled back with it')
      })

      it('reject a duplicate action number in one queue', async () => {
        const box = await addCashbox()
        const item = queueItem(box.queueId, 1, randomUUID(), momentOf(1))
        await ledger.work(async (work) => {
          await work.insertQueueItem(item)
          await work.insertActionJournal(actionEntry(item, 1))
        })
        await assert.rejects(ledger.work((work) => work.insertActionJournal(actionEntry(item, 1))))
      })
    })

    describe('ledger.work serializes the units of one queue', () => {
      const UNITS = 150

      it(`${UNITS} concurrent units on one queue get rows and numbers 1..${UNITS} without gaps`, async () => {
        const box = await addCashbox()
        const other = await addCashbox()
        const results = await Promise.allSettled(
          Array.from({ length: UNITS }, (_, i) =>
            ledger.work((work) =>
              writeReceipt(work, i % 10 === 0 ? other : box, {
                // A round trip between reading and writing the counters.
                between: () => work.findOperation(box.id, randomUUID()),
              }),
            ),
          ),
        )
        const failed = results.filter((r) => r.status === 'rejected')
        assert.deepEqual(
          failed.map((r) => String((r as PromiseRejectedResult).reason)),
          [],
          'no unit may fail: a failure here means two units saw the same counters',
        )
        const mine = UNITS - UNITS / 10
        const state = await queueRows(storage, box.queueId)
        assert.deepEqual(state.rows, oneTo(mine))
        assert.deepEqual(state.numbers, oneTo(mine))
        assert.equal(state.currentRow, mine)
        assert.equal(state.receiptNumerator, mine)
        const otherState = await queueRows(storage, other.queueId)
        assert.deepEqual(otherState.rows, oneTo(UNITS / 10))
        // Every unit got back the row it wrote, each row exactly once.
        const answered = results
          .map((r) => (r as PromiseFulfilledResult<QueueItemRecord>).value)
          .filter((item) => item.queueId === box.queueId)
          .map((item) => item.row)
          .sort((x, y) => x - y)
        assert.deepEqual(answered, oneTo(mine))
      })

      it('a unit that throws after writing rolls back alone; the others commit', async () => {
        const box = await addCashbox()
        const COUNT = 20
        const THROWS = 7
        const VIOLATES = 12
        const taken = randomUUID()
        await ledger.work((work) => writeReceipt(work, box, { operationId: taken }))

        // The transaction each unit ran in (SQLite runs the units of a batch one after the other).
        let current: Transaction<Database> | undefined
        const traced: Storage = {
          ...storage,
          engine: storage.engine,
          db: storage.db,
          transact: (fn) =>
            storage.transact((trx) => {
              current = trx
              return fn(trx)
            }),
          close: () => storage.close(),
        }
        const tracedLedger = createLedger(traced)
        const transactionOf: Array<Transaction<Database> | undefined> = []
        const writtenBy: Array<QueueItemRecord | undefined> = []

        const results = await Promise.allSettled(
          Array.from({ length: COUNT }, (_, i) =>
            tracedLedger.work(async (work) => {
              transactionOf[i] = current
              if (i === VIOLATES) {
                // Writes a queue item, then hits the operations primary key: a database error mid-unit.
                return writeReceipt(work, box, {
                  operationId: taken,
                  onItem: (item) => {
                    writtenBy[i] = item
                  },
                })
              }
              writtenBy[i] = await writeReceipt(work, box)
              if (i === THROWS) throw new Error(`unit ${i} fails after writing`)
              return writtenBy[i]
            }),
          ),
        )
        results.forEach((result, i) => {
          if (i === THROWS) {
            assert.equal(result.status, 'rejected')
            assert.match(String((result as PromiseRejectedResult).reason), /unit 7 fails after writing/)
          } else if (i === VIOLATES) {
            assert.equal(result.status, 'rejected', 'a duplicate operation must be rejected')
          } else {
            assert.equal(
              result.status,
              'fulfilled',
              `unit ${i}: ${String((result as PromiseRejectedResult).reason)}`,
            )
          }
        })
        const expected = 1 + COUNT - 2
        const state = await queueRows(storage, box.queueId)
        assert.deepEqual(state.rows, oneTo(expected), 'rows go on without a gap where the failed units were')
        assert.deepEqual(state.numbers, oneTo(expected))
        assert.equal(state.currentRow, expected)
        for (const i of [THROWS, VIOLATES]) {
          const item = writtenBy[i]
          assert.ok(item, `unit ${i} wrote before failing`)
          assert.ok(!state.ids.has(item.id), `the queue item of unit ${i} was rolled back`)
        }
        for (const [i, item] of writtenBy.entries()) {
          if (i !== THROWS && i !== VIOLATES) assert.ok(item && state.ids.has(item.id), `unit ${i} committed`)
        }
        if (engine === 'sqlite') {
          // Group commit: the failing units shared their transaction with units that committed.
          for (const i of [THROWS, VIOLATES]) {
            assert.ok(transactionOf[i])
            assert.equal(
              transactionOf[i],
              transactionOf[i - 1],
              `unit ${i} ran in the batch of unit ${i - 1}`,
            )
            assert.equal(
              transactionOf[i],
              transactionOf[i + 1],
              `unit ${i} ran in the batch of unit ${i + 1}`,
            )
          }
        }
      })

      it('a failing unit on one queue does not hold back work on another', async () => {
        const [a, b] = await Promise.all([addCashbox(), addCashbox()])
        const results = await Promise.allSettled([
          ledger.work(async (work) => {
            await writeReceipt(work, a)
            throw new Error('queue a fails')
          }),
          ledger.work((work) => writeReceipt(work, b)),
        ])
        assert.equal(results[0].status, 'rejected')
        assert.equal(results[1].status, 'fulfilled')
        assert.deepEqual((await queueRows(storage, a.queueId)).rows, [])
        assert.deepEqual((await queueRows(storage, b.queueId)).rows, [1])
      })
    })

    describe('journal reads', () => {
      const COUNT = 23
      let box: { id: string; queueId: string }
      let neighbour: { id: string; queueId: string }

      before(async () => {
        box = await addCashbox()
        neighbour = await addCashbox()
        for (let i = 0; i < COUNT; i++) {
          await ledger.work((work) => writeReceipt(work, box, { withAction: true }))
          if (i % 4 === 0) await ledger.work((work) => writeReceipt(work, neighbour, { withAction: true }))
        }
      })

      /** Reads every page of size `limit` with the exclusive cursor, as the journal endpoint does. */
      async function readAll<T>(
        read: (after: number) => Promise<T[]>,
        cursor: (row: T) => number,
        limit: number,
      ): Promise<{ pages: number[]; keys: number[] }> {
        const pages: number[] = []
        const keys: number[] = []
        let after = 0
        for (;;) {
          const rows = await read(after)
          pages.push(rows.length)
          keys.push(...rows.map(cursor))
          if (rows.length < limit) return { pages, keys }
          after = cursor(rows[rows.length - 1] as T)
        }
      }

      it('receipt journal pages follow the number, within one queue', async () => {
        const journal = journalRepository(storage)
        const { pages, keys } = await readAll(
          (after) => journal.receipts(box.queueId, { after, limit: 5 }),
          (row) => row.number,
          5,
        )
        assert.deepEqual(pages, [5, 5, 5, 5, 3])
        assert.deepEqual(keys, oneTo(COUNT))
        const all = await journal.receipts(box.queueId, { after: 0, limit: 1000 })
        assert.ok(all.every((row) => row.queue_id === box.queueId))
      })

      it('a page size that divides the journal ends with an empty page', async () => {
        const journal = journalRepository(storage)
        const { pages, keys } = await readAll(
          (after) => journal.receipts(neighbour.queueId, { after, limit: 3 }),
          (row) => row.number,
          3,
        )
        assert.deepEqual(pages, [3, 3, 0])
        assert.deepEqual(keys, oneTo(6))
      })

      it('action journal and queue item pages follow number and row', async () => {
        const journal = journalRepository(storage)
        const actions = await readAll(
          (after) => journal.actions(box.queueId, { after, limit: 10 }),
          (row) => row.number,
          10,
        )
        assert.deepEqual(actions.keys, oneTo(COUNT))
        const items = await readAll(
          (after) => journal.queueItems(box.queueId, { after, limit: 4 }),
          (row) => row.row,
          4,
        )
        assert.deepEqual(items.pages, [4, 4, 4, 4, 4, 3])
        assert.deepEqual(items.keys, oneTo(COUNT))
      })

      it('from/to select an inclusive moment range, combined with the cursor', async () => {
        const journal = journalRepository(storage)
        const range = { from: momentOf(6), to: momentOf(12) }
        const receipts = await journal.receipts(box.queueId, { after: 0, limit: 100, ...range })
        assert.deepEqual(
          receipts.map((r) => r.number),
          [6, 7, 8, 9, 10, 11, 12],
        )
        const paged = await journal.receipts(box.queueId, { after: 9, limit: 2, ...range })
        assert.deepEqual(
          paged.map((r) => r.number),
          [10, 11],
        )
        const items = await journal.queueItems(box.queueId, { after: 0, limit: 100, ...range })
        assert.deepEqual(
          items.map((r) => r.row),
          [6, 7, 8, 9, 10, 11, 12],
        )
        const actions = await journal.actions(box.queueId, { after: 0, limit: 100, from: momentOf(COUNT) })
        assert.deepEqual(
          actions.map((r) => r.number),
          [COUNT],
        )
      })

      it('receiptsWithItems joins each entry to the request and response it hashes', async () => {
        const journal = journalRepository(storage)
        const first = await journal.receiptsWithItems(box.queueId, 0, 10)
        const rest = await journal.receiptsWithItems(box.queueId, 10, 100)
        const rows = [...first, ...rest]
        assert.deepEqual(
          rows.map((r) => r.number),
          oneTo(COUNT),
        )
        for (const row of rows) {
          assert.equal(row.request, JSON.stringify({ row: row.queue_row }))
          assert.equal(row.response, JSON.stringify({ ftQueueRow: row.queue_row }))
        }
      })
    })
  })
}
