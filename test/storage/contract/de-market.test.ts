import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import type { DeCashboxRecord, DeReceiptRecord, DeStore } from '../../../src/markets/de/market/ports.ts'
import type { Storage } from '../../../src/storage/database.ts'
import { deMarketStore } from '../../../src/markets/de/store/market.ts'
import { moduleDatabase } from '../../../src/storage/module-database.ts'
import { addCashbox, inUnit, momentOf } from './fixtures.ts'
import { runContract } from './runner.ts'

/** The German market's store (markets/de/market/ports.ts); its per-receipt statements have a prepared copy. */
const build = (storage: Storage): DeStore => deMarketStore(moduleDatabase(storage))

const cashbox = (queueId: string): DeCashboxRecord => ({
  queueId,
  organizationId: randomUUID(),
  tssId: randomUUID(),
  clientId: randomUUID(),
  clientSerial: `client-${queueId.slice(0, 8)}`,
  tssOutOfServiceSince: null,
  createdAt: momentOf(0),
})

/** Receipt n of closing zNr; every third one closes its period. */
const receipt = (queueId: string, receiptNumber: number, zNr: number): DeReceiptRecord => ({
  queueId,
  receiptNumber,
  zNr,
  kind: receiptNumber % 3 === 0 ? 'closing' : 'receipt',
  moment: momentOf(receiptNumber),
  data: JSON.stringify({ receiptNumber, text: 'Grüße' }),
})

await runContract('DeStore', { build, preparedPath: true }, (t) => {
  const started = async () => {
    const { queueId } = await addCashbox(t.storage)
    const record = cashbox(queueId)
    await inUnit(t.storage, (unit) => t.store.insertCashboxIn(unit, record))
    return record
  }

  describe('cash boxes', () => {
    it('reads a cash box back the same inside and outside a unit', async () => {
      const record = await started()
      assert.deepEqual(await t.store.cashbox(record.queueId), record)
      assert.deepEqual(await inUnit(t.storage, (unit) => t.store.cashboxIn(unit, record.queueId)), record)
      assert.equal(await t.store.cashbox(randomUUID()), undefined)
      assert.equal(await inUnit(t.storage, (unit) => t.store.cashboxIn(unit, randomUUID())), undefined)
    })

    it('a unit reads the cash box it inserted before it commits', async () => {
      const { queueId } = await addCashbox(t.storage)
      const record = cashbox(queueId)
      const seen = await inUnit(t.storage, async (unit) => {
        await t.store.insertCashboxIn(unit, record)
        return t.store.cashboxIn(unit, queueId)
      })
      assert.deepEqual(seen, record)
    })

    it('refuses a second cash box on a queue, and a TSS used by another cash box', async () => {
      const record = await started()
      await assert.rejects(
        inUnit(t.storage, (unit) => t.store.insertCashboxIn(unit, cashbox(record.queueId))),
      )
      const { queueId } = await addCashbox(t.storage)
      await assert.rejects(
        inUnit(t.storage, (unit) =>
          t.store.insertCashboxIn(unit, { ...cashbox(queueId), tssId: record.tssId }),
        ),
      )
      assert.equal(await t.store.cashbox(queueId), undefined)
    })

    it('switches the TSS out of service and back; an unknown cash box answers false', async () => {
      const record = await started()
      assert.equal(await t.store.setOutOfService(record.queueId, momentOf(3)), true)
      const inside = await inUnit(t.storage, (unit) => t.store.cashboxIn(unit, record.queueId))
      assert.equal(inside?.tssOutOfServiceSince, momentOf(3))
      assert.equal(await t.store.setOutOfService(record.queueId, null), true)
      assert.equal((await t.store.cashbox(record.queueId))?.tssOutOfServiceSince, null)
      assert.equal(await t.store.setOutOfService(randomUUID(), momentOf(3)), false)
    })
  })

  describe('receipts', () => {
    it('every field written in a unit reads back unchanged, in receipt order, by closing range', async () => {
      const [a, b] = [await started(), await started()]
      // z 1: receipts 1-3, z 2: 4-6, z 3: 7-9; written out of order, next to another cash box's.
      const order = [5, 1, 9, 2, 7, 3, 8, 4, 6]
      await inUnit(t.storage, async (unit) => {
        for (const n of order) {
          await t.store.insertReceiptIn(unit, receipt(a.queueId, n, Math.ceil(n / 3)))
          await t.store.insertReceiptIn(unit, receipt(b.queueId, n, Math.ceil(n / 3)))
        }
      })
      const numbers = (rows: DeReceiptRecord[]) => rows.map((r) => r.receiptNumber)
      const all = await t.store.receiptsOfClosings(a.queueId, 1, 3)
      assert.deepEqual(
        all,
        [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => receipt(a.queueId, n, Math.ceil(n / 3))),
      )
      assert.deepEqual(numbers(await t.store.receiptsOfClosings(a.queueId, 2, 2)), [4, 5, 6])
      assert.deepEqual(numbers(await t.store.receiptsOfClosings(a.queueId, 2, 3)), [4, 5, 6, 7, 8, 9])
      assert.deepEqual(numbers(await t.store.receiptsOfClosings(a.queueId, 4, 9)), [])
      const closings = await t.store.closings(a.queueId)
      assert.deepEqual(numbers(closings), [3, 6, 9])
      assert.ok(closings.every((c) => c.kind === 'closing' && c.queueId === a.queueId))
    })

    it('refuses a receipt number twice in one cash box and rolls back its unit', async () => {
      const record = await started()
      await inUnit(t.storage, (unit) => t.store.insertReceiptIn(unit, receipt(record.queueId, 1, 1)))
      await assert.rejects(
        inUnit(t.storage, async (unit) => {
          await t.store.insertReceiptIn(unit, receipt(record.queueId, 2, 1))
          await t.store.insertReceiptIn(unit, receipt(record.queueId, 1, 1))
        }),
      )
      const numbers = (await t.store.receiptsOfClosings(record.queueId, 0, 10)).map((r) => r.receiptNumber)
      assert.deepEqual(numbers, [1])
    })
  })
})
