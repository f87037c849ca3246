import assert from 'node:assert/strict'
import { before, it } from 'node:test'
import type { Storage } from '../../../src/storage/database.ts'
import { journalRepository } from '../../../src/storage/repositories/journal.ts'
import { createLedger } from '../../../src/storage/repositories/ledger.ts'
import { addCashbox, momentOf, oneTo, writeReceipt } from './fixtures.ts'
import { runContract } from './runner.ts'

/** The journal reads (storage/repositories/journal.ts): keyset pages of the journals the ledger wrote. */
const build = (storage: Storage) => journalRepository(storage)

/** Reads every page of size `limit` with the exclusive cursor, as the journal endpoint does. */
async function readAll<T>(read: (after: number) => Promise<T[]>, cursor: (row: T) => number, limit: number) {
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

await runContract('JournalRepository', { build }, (t) => {
  const COUNT = 23
  let box: { id: string; queueId: string }
  let neighbour: { id: string; queueId: string }

  before(async () => {
    box = await addCashbox(t.storage)
    neighbour = await addCashbox(t.storage)
    const ledger = createLedger(t.storage)
    // Interleaved with a neighbour queue, so that a missing queue filter shows in every read.
    for (let i = 0; i < COUNT; i++) {
      await ledger.work((work) => writeReceipt(work, box, { withAction: true }))
      if (i % 4 === 0) await ledger.work((work) => writeReceipt(work, neighbour, { withAction: true }))
    }
  })

  it('receipt journal pages follow the number, within one queue', async () => {
    const { pages, keys } = await readAll(
      (after) => t.store.receipts(box.queueId, { after, limit: 5 }),
      (row) => row.number,
      5,
    )
    assert.deepEqual(pages, [5, 5, 5, 5, 3])
    assert.deepEqual(keys, oneTo(COUNT))
    const all = await t.store.receipts(box.queueId, { after: 0, limit: 1000 })
    assert.ok(all.every((row) => row.queue_id === box.queueId))
  })

  it('a page size that divides the journal ends with an empty page', async () => {
    const { pages, keys } = await readAll(
      (after) => t.store.receipts(neighbour.queueId, { after, limit: 3 }),
      (row) => row.number,
      3,
    )
    assert.deepEqual(pages, [3, 3, 0])
    assert.deepEqual(keys, oneTo(6))
  })

  it('action journal and queue item pages follow number and row', async () => {
    const actions = await readAll(
      (after) => t.store.actions(box.queueId, { after, limit: 10 }),
      (row) => row.number,
      10,
    )
    assert.deepEqual(actions.keys, oneTo(COUNT))
    const items = await readAll(
      (after) => t.store.queueItems(box.queueId, { after, limit: 4 }),
      (row) => row.row,
      4,
    )
    assert.deepEqual(items.pages, [4, 4, 4, 4, 4, 3])
    assert.deepEqual(items.keys, oneTo(COUNT))
  })

  it('from/to select an inclusive moment range, combined with the cursor', async () => {
    const range = { from: momentOf(6), to: momentOf(12) }
    const receipts = await t.store.receipts(box.queueId, { after: 0, limit: 100, ...range })
    assert.deepEqual(
      receipts.map((r) => r.number),
      [6, 7, 8, 9, 10, 11, 12],
    )
    const paged = await t.store.receipts(box.queueId, { after: 9, limit: 2, ...range })
    assert.deepEqual(
      paged.map((r) => r.number),
      [10, 11],
    )
    const items = await t.store.queueItems(box.queueId, { after: 0, limit: 100, ...range })
    assert.deepEqual(
      items.map((r) => r.row),
      [6, 7, 8, 9, 10, 11, 12],
    )
    const actions = await t.store.actions(box.queueId, { after: 0, limit: 100, from: momentOf(COUNT) })
    assert.deepEqual(
      actions.map((r) => r.number),
      [COUNT],
    )
  })

  it('receiptsWithItems joins each entry to the request and response it hashes', async () => {
    const rows = [
      ...(await t.store.receiptsWithItems(box.queueId, 0, 10)),
      ...(await t.store.receiptsWithItems(box.queueId, 10, 100)),
    ]
    assert.deepEqual(
      rows.map((r) => r.number),
      oneTo(COUNT),
    )
    for (const row of rows) {
      assert.equal(row.request, JSON.stringify({ row: row.queue_row }))
      assert.equal(row.response, JSON.stringify({ ftQueueRow: row.queue_row }))
    }
  })

  it('queue reads the counters the ledger saved, as numbers', async () => {
    const queue = await t.store.queue(box.queueId)
    assert.equal(queue?.current_row, COUNT)
    assert.equal(queue?.receipt_numerator, COUNT)
    assert.equal(queue?.action_numerator, COUNT)
    assert.equal(queue?.last_receipt_hash, `hash-${COUNT}`)
  })
})
