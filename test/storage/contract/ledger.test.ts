import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import type { Transaction } from 'kysely'
import type { Ledger, OperationRecord, QueueItemRecord } from '../../../src/core/ports.ts'
import type { Storage } from '../../../src/storage/database.ts'
import { journalRepository } from '../../../src/storage/repositories/journal.ts'
import { createLedger } from '../../../src/storage/repositories/ledger.ts'
import type { Database } from '../../../src/storage/schema.ts'
import {
  actionEntry,
  addCashbox,
  momentOf,
  oneTo,
  operation,
  queueItem,
  receiptEntry,
  writeReceipt,
} from './fixtures.ts'
import { runContract } from './runner.ts'

/** The core's Ledger and QueueWork (src/core/ports.ts): the receipt path's unit of work. */
const build = (storage: Storage): Ledger => createLedger(storage)

async function queueRows(storage: Storage, queueId: string) {
  const journal = journalRepository(storage)
  const rows = await journal.queueItems(queueId, { after: 0, limit: 1000 })
  const numbers = await journal.receipts(queueId, { after: 0, limit: 1000 })
  const queue = await journal.queue(queueId)
  return {
    rows: rows.map((r) => r.row),
    ids: new Set(rows.map((r) => r.id)),
    numbers: numbers.map((n) => n.number),
    currentRow: queue?.current_row,
    receiptNumerator: queue?.receipt_numerator,
  }
}

await runContract('Ledger', { build, preparedPath: true }, (t) => {
  const box = () => addCashbox(t.storage)

  describe('round trips', () => {
    it('every field written through QueueWork reads back unchanged', async () => {
      const b = await box()
      const item = queueItem(b.queueId, 1, randomUUID(), momentOf(1))
      const entry = receiptEntry(item, 1)
      const action = actionEntry(item, 1)
      const op = operation(b.id, item.operationId, item.id)
      await t.store.work(async (work) => {
        await work.insertQueueItem(item)
        await work.insertReceiptJournal(entry)
        await work.insertActionJournal(action)
        await work.insertOperation(op)
      })
      const journal = journalRepository(t.storage)
      const [storedItem] = await journal.queueItems(b.queueId, { after: 0, limit: 10 })
      assert.deepEqual(storedItem, {
        id: item.id,
        queue_id: item.queueId,
        row: item.row,
        operation_id: item.operationId,
        cb_receipt_reference: item.cbReceiptReference,
        cb_terminal_id: item.cbTerminalId,
        ft_receipt_case: item.ftReceiptCase,
        cb_receipt_moment: item.cbReceiptMoment,
        ft_moment: item.ftMoment,
        request: item.request,
        request_hash: item.requestHash,
        response: item.response,
        response_hash: item.responseHash,
        ft_state: item.ftState,
      })
      const [storedEntry] = await journal.receipts(b.queueId, { after: 0, limit: 10 })
      assert.deepEqual(storedEntry, {
        id: entry.id,
        queue_id: entry.queueId,
        number: entry.number,
        queue_item_id: entry.queueItemId,
        queue_row: entry.queueRow,
        moment: entry.moment,
        receipt_case: entry.receiptCase,
        total: entry.total,
        request_hash: entry.requestHash,
        response_hash: entry.responseHash,
        previous_hash: entry.previousHash,
        hash: entry.hash,
      })
      const [storedAction] = await journal.actions(b.queueId, { after: 0, limit: 10 })
      assert.deepEqual(storedAction, {
        id: action.id,
        queue_id: action.queueId,
        number: action.number,
        queue_item_id: action.queueItemId,
        moment: action.moment,
        type: action.type,
        message: action.message,
        data: action.data,
      })
      assert.deepEqual(await t.store.findOperation(b.id, item.operationId), op)
      assert.equal(await t.store.queueItemResponse(item.id), item.response)
      assert.equal(await t.store.queueItemResponse(randomUUID()), undefined)
      assert.equal(await t.store.findOperation(b.id, randomUUID()), undefined)
    })

    it('lockQueue reads back every field saveQueue wrote', async () => {
      const b = await box()
      const fresh = await t.store.work((work) => work.lockQueue(b.queueId))
      assert.equal(fresh.id, b.queueId)
      assert.equal(fresh.cashboxId, b.id)
      assert.equal(fresh.currentRow, 0)
      assert.equal(fresh.marketState, null)
      const saved = {
        ...fresh,
        currentRow: 7,
        receiptNumerator: 5,
        actionNumerator: 3,
        lastReceiptHash: 'h'.repeat(64),
        startMoment: momentOf(1),
        stopMoment: momentOf(2),
        totalizers: { ...fresh.totalizers, closings: { daily: 1, monthly: 2, yearly: 3 } },
        marketState: '{"turnover":"12.50"}',
      }
      await t.store.work((work) => work.saveQueue(saved))
      assert.deepEqual(await t.store.work((work) => work.lockQueue(b.queueId)), saved)
    })

    it('a reservation round-trips on the queue, is listed by reservedQueues until cleared', async () => {
      const b = await box()
      const fresh = await t.store.work((work) => work.lockQueue(b.queueId))
      assert.equal(fresh.reservation, null)
      assert.ok(!(await t.store.reservedQueues()).some((q) => q.queueId === b.queueId))
      const reservation = {
        key: randomUUID(),
        operationId: randomUUID(),
        cashboxId: b.id,
        queueRow: 1,
        receiptNumber: 1,
        queueItemId: randomUUID(),
        moment: momentOf(3),
        requestText: '{"cbReceiptReference":"R-1"}',
        requestHash: 'a'.repeat(64),
        unitRequest: '{"n":1}',
        owner: randomUUID(),
        leaseUntil: 1_765_000_000_000,
      }
      await t.store.work((work) => work.saveQueue({ ...fresh, reservation }))
      assert.deepEqual((await t.store.work((work) => work.lockQueue(b.queueId))).reservation, reservation)
      const listed = (await t.store.reservedQueues()).find((q) => q.queueId === b.queueId)
      assert.deepEqual(listed, { queueId: b.queueId, countryCode: fresh.countryCode })
      await t.store.work((work) => work.saveQueue({ ...fresh, reservation: null }))
      assert.equal((await t.store.work((work) => work.lockQueue(b.queueId))).reservation, null)
      assert.ok(!(await t.store.reservedQueues()).some((q) => q.queueId === b.queueId))
    })

    it('tells whether other nodes may write the same queues', () => {
      assert.equal(t.store.sharedByNodes, t.implementation === 'postgres')
    })

    it('lockQueue of an unknown queue fails the unit', async () => {
      await assert.rejects(t.store.work((work) => work.lockQueue(randomUUID())))
    })

    it('a unit sees its own uncommitted operation; a read outside it does not', async () => {
      const b = await box()
      const operationId = randomUUID()
      let outside: OperationRecord | undefined | 'not read' = 'not read'
      await t.store.work(async (work) => {
        await writeReceipt(work, b, { operationId })
        assert.equal((await work.findOperation(b.id, operationId))?.operationId, operationId)
        // Through Kysely, SQLite's one connection queues the read behind this very unit: awaiting it here
        // would wait forever. The production paths read through another connection.
        if (t.implementation !== 'sqlite') outside = await t.store.findOperation(b.id, operationId)
      })
      if (t.implementation !== 'sqlite') assert.equal(outside, undefined)
      assert.equal((await t.store.findOperation(b.id, operationId))?.operationId, operationId)
    })
  })

  describe('unique constraints', () => {
    it('reject a second operation with the same (cash box, operation id), and its whole unit', async () => {
      const b = await box()
      const operationId = randomUUID()
      await t.store.work((work) => writeReceipt(work, b, { operationId }))
      let written: QueueItemRecord | undefined
      await assert.rejects(
        t.store.work((work) =>
          writeReceipt(work, b, {
            operationId,
            onItem: (item) => {
              written = item
            },
          }),
        ),
      )
      assert.ok(written, 'the unit got as far as the operation insert')
      const state = await queueRows(t.storage, b.queueId)
      assert.deepEqual(state.rows, [1])
      assert.deepEqual(state.numbers, [1])
      assert.equal(state.currentRow, 1, 'the failed unit saved no counters')
      assert.ok(!state.ids.has(written.id), 'the failed unit left no queue item')
    })

    it('allow the same operation id on another cash box', async () => {
      const [a, b] = await Promise.all([box(), box()])
      const operationId = randomUUID()
      await t.store.work((work) => writeReceipt(work, a, { operationId }))
      await t.store.work((work) => writeReceipt(work, b, { operationId }))
      const [fromA, fromB] = await Promise.all([
        t.store.findOperation(a.id, operationId),
        t.store.findOperation(b.id, operationId),
      ])
      assert.ok(fromA && fromB)
      assert.notEqual(fromA.queueItemId, fromB.queueItemId)
    })

    it('reject a duplicate queue row in one queue, not across queues', async () => {
      const [a, b] = await Promise.all([box(), box()])
      const insert = (queueId: string) =>
        t.store.work((work) => work.insertQueueItem(queueItem(queueId, 1, randomUUID(), momentOf(1))))
      await insert(a.queueId)
      await assert.rejects(insert(a.queueId))
      await insert(b.queueId)
      assert.deepEqual((await queueRows(t.storage, a.queueId)).rows, [1])
      assert.deepEqual((await queueRows(t.storage, b.queueId)).rows, [1])
    })

    it('reject a duplicate receipt number in one queue, rolling back the unit', async () => {
      const b = await box()
      const [first, second] = [1, 2].map((row) => queueItem(b.queueId, row, randomUUID(), momentOf(row))) as [
        QueueItemRecord,
        QueueItemRecord,
      ]
      await t.store.work(async (work) => {
        await work.insertQueueItem(first)
        await work.insertReceiptJournal(receiptEntry(first, 1))
      })
      await assert.rejects(
        t.store.work(async (work) => {
          await work.insertQueueItem(second)
          await work.insertReceiptJournal(receiptEntry(second, 1))
        }),
      )
      const state = await queueRows(t.storage, b.queueId)
      assert.deepEqual(state.numbers, [1])
      assert.deepEqual(state.rows, [1], 'the queue item of the rejected unit was rolled back with it')
    })

    it('reject a duplicate action number in one queue', async () => {
      const b = await box()
      const item = queueItem(b.queueId, 1, randomUUID(), momentOf(1))
      await t.store.work(async (work) => {
        await work.insertQueueItem(item)
        await work.insertActionJournal(actionEntry(item, 1))
      })
      await assert.rejects(t.store.work((work) => work.insertActionJournal(actionEntry(item, 1))))
    })
  })

  describe('work serializes the units of one queue', () => {
    const UNITS = 60

    it(`${UNITS} concurrent units on one queue get rows and numbers 1..n without gaps`, async () => {
      const [mine, other] = await Promise.all([box(), box()])
      // Two ledgers on one database: on PostgreSQL, two nodes.
      const ledgers = [t.store, t.build()]
      const results = await Promise.allSettled(
        Array.from({ length: UNITS }, (_, i) =>
          (ledgers[i % 2] as Ledger).work((work) =>
            writeReceipt(work, i % 10 === 0 ? other : mine, {
              // A round trip between reading and writing the counters.
              between: () => work.findOperation(mine.id, randomUUID()),
            }),
          ),
        ),
      )
      assert.deepEqual(
        results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : [])),
        [],
        'no unit may fail: a failure here means two units saw the same counters',
      )
      const count = UNITS - UNITS / 10
      const state = await queueRows(t.storage, mine.queueId)
      assert.deepEqual(state.rows, oneTo(count))
      assert.deepEqual(state.numbers, oneTo(count))
      assert.equal(state.currentRow, count)
      assert.equal(state.receiptNumerator, count)
      assert.deepEqual((await queueRows(t.storage, other.queueId)).rows, oneTo(UNITS / 10))
    })

    it('a unit that throws after writing rolls back alone; the others commit', async () => {
      const b = await box()
      const COUNT = 12
      const THROWS = 4
      const VIOLATES = 8
      const taken = randomUUID()
      await t.store.work((work) => writeReceipt(work, b, { operationId: taken }))

      // The transaction each unit ran in (SQLite runs the units of a batch one after the other).
      let current: Transaction<Database> | undefined
      const traced: Storage = {
        ...t.storage,
        transact: (fn) =>
          t.storage.transact((trx) => {
            current = trx
            return fn(trx)
          }),
      }
      const tracedLedger = t.build(traced)
      const transactionOf: Array<Transaction<Database> | undefined> = []
      const writtenBy: Array<QueueItemRecord | undefined> = []
      const results = await Promise.allSettled(
        Array.from({ length: COUNT }, (_, i) =>
          tracedLedger.work(async (work) => {
            transactionOf[i] = current
            if (i === VIOLATES) {
              // Writes a queue item, then hits the operations primary key: a database error mid-unit.
              return writeReceipt(work, b, {
                operationId: taken,
                onItem: (item) => {
                  writtenBy[i] = item
                },
              })
            }
            writtenBy[i] = await writeReceipt(work, b)
            if (i === THROWS) throw new Error(`unit ${i} fails after writing`)
            return writtenBy[i]
          }),
        ),
      )
      results.forEach((result, i) => {
        const expected = i === THROWS || i === VIOLATES ? 'rejected' : 'fulfilled'
        assert.equal(result.status, expected, `unit ${i}`)
      })
      const expected = 1 + COUNT - 2
      const state = await queueRows(t.storage, b.queueId)
      assert.deepEqual(state.rows, oneTo(expected), 'rows go on without a gap where the failed units were')
      assert.deepEqual(state.numbers, oneTo(expected))
      for (const i of [THROWS, VIOLATES]) {
        const item = writtenBy[i]
        assert.ok(item, `unit ${i} wrote before failing`)
        assert.ok(!state.ids.has(item.id), `the queue item of unit ${i} was rolled back`)
      }
      if (t.engine === 'sqlite') {
        // Group commit: the failing units shared their transaction with units that committed.
        for (const i of [THROWS, VIOLATES]) {
          assert.ok(transactionOf[i])
          assert.equal(transactionOf[i], transactionOf[i - 1], `unit ${i} ran in the batch of unit ${i - 1}`)
          assert.equal(transactionOf[i], transactionOf[i + 1], `unit ${i} ran in the batch of unit ${i + 1}`)
        }
      }
    })

    it('a failing unit on one queue does not hold back work on another', async () => {
      const [a, b] = await Promise.all([box(), box()])
      const results = await Promise.allSettled([
        t.store.work(async (work) => {
          await writeReceipt(work, a)
          throw new Error('queue a fails')
        }),
        t.store.work((work) => writeReceipt(work, b)),
      ])
      assert.equal(results[0].status, 'rejected')
      assert.equal(results[1].status, 'fulfilled')
      assert.deepEqual((await queueRows(t.storage, a.queueId)).rows, [])
      assert.deepEqual((await queueRows(t.storage, b.queueId)).rows, [1])
    })
  })
})
