import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { it } from 'node:test'
import type { IssuedReceipt, IssuedReceiptStore } from '../../../src/receipts/issue-service.ts'
import type { Storage } from '../../../src/storage/database.ts'
import { issuedReceiptRepository } from '../../../src/storage/repositories/issued-receipts.ts'
import { createLedger } from '../../../src/storage/repositories/ledger.ts'
import { addCashbox, momentOf, queueItem, writeReceipt } from './fixtures.ts'
import { runContract } from './runner.ts'

/** /v2/issue's store (receipts/issue-service.ts). */
const build = (storage: Storage): IssuedReceiptStore => issuedReceiptRepository(storage)

await runContract('IssuedReceiptStore', { build }, (t) => {
  const signed = async () => {
    const box = await addCashbox(t.storage)
    const item = await createLedger(t.storage).work((work) => writeReceipt(work, box))
    return { box, item }
  }
  const issued = (box: { id: string; queueId: string }, queueItemId: string): IssuedReceipt => ({
    id: randomUUID(),
    cashboxId: box.id,
    queueId: box.queueId,
    queueItemId,
    createdAt: momentOf(1),
    deliveredAt: null,
    deliveredBy: null,
  })

  it('storedReceipt reads a queue item with its journal hash, only in its own queue', async () => {
    const { box, item } = await signed()
    assert.deepEqual(await t.store.storedReceipt(box.queueId, item.id), {
      queueItemId: item.id,
      queueRow: item.row,
      request: item.request,
      requestHash: item.requestHash,
      response: item.response,
      responseHash: item.responseHash,
      journalResponseHash: item.responseHash,
    })
    const other = await addCashbox(t.storage)
    assert.equal(await t.store.storedReceipt(other.queueId, item.id), undefined)
  })

  it('storedReceipt of a receipt without a journal entry has no journal hash', async () => {
    const box = await addCashbox(t.storage)
    const item = queueItem(box.queueId, 1, randomUUID(), momentOf(1))
    await createLedger(t.storage).work((work) => work.insertQueueItem(item))
    assert.equal((await t.store.storedReceipt(box.queueId, item.id))?.journalResponseHash, undefined)
  })

  it('issues a receipt once: a second issue, also a concurrent one, answers the first document', async () => {
    const { box, item } = await signed()
    const [a, b] = await Promise.all([
      t.store.issue(issued(box, item.id)),
      t.build().issue(issued(box, item.id)),
    ])
    assert.deepEqual(a, b)
    assert.deepEqual(await t.store.issue(issued(box, item.id)), a)
    assert.deepEqual(await t.store.byId(a.id), a)
    assert.deepEqual(await t.store.byQueueItem(box.queueId, item.id), a)
    assert.equal(await t.store.byQueueItem(randomUUID(), item.id), undefined)
    assert.equal(await t.store.byId(randomUUID()), undefined)
  })

  it('markDelivered sets the delivery once', async () => {
    const { box, item } = await signed()
    const document = await t.store.issue(issued(box, item.id))
    const first = await t.store.markDelivered(document.id, momentOf(2), 'pos')
    assert.deepEqual(first, { ...document, deliveredAt: momentOf(2), deliveredBy: 'pos' })
    assert.deepEqual(await t.store.markDelivered(document.id, momentOf(3), 'viewer'), first)
    await assert.rejects(t.store.markDelivered(randomUUID(), momentOf(3), 'viewer'))
  })
})
