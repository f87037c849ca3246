import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import type { FiscalRecord, TransactionRecord } from '../../../src/core/v1/model.ts'
import type { TransactionPatch, TransactionStore } from '../../../src/core/v1/ports.ts'
import type { Storage } from '../../../src/storage/database.ts'
import { accountStore } from '../../../src/storage/repositories/v1-accounts.ts'
import { transactionStore } from '../../../src/storage/repositories/v1-transactions.ts'
import { addAccount, location, momentOf, oneTo, transaction } from './fixtures.ts'
import { runContract } from './runner.ts'

/** The transactions API v1's store and its unit of work (core/v1/ports.ts TransactionStore, V1Unit). */
const build = (storage: Storage): TransactionStore => transactionStore(storage)

await runContract('TransactionStore', { build }, (t) => {
  const shop = async () => {
    const account = await addAccount(t.storage)
    const loc = location(account.id)
    await accountStore(t.storage).insertLocation(loc)
    return { accountId: account.id, locationId: loc.id }
  }
  const insert = (record: TransactionRecord, store = t.store) =>
    store.unit((unit) => unit.insertTransaction(record))
  const fiscalRecord = (tx: TransactionRecord, sequence: number): FiscalRecord => ({
    transactionId: tx.id,
    locationId: tx.locationId,
    environment: tx.environment,
    sequence,
    fiscalizer: 'test',
    previousHash: `hash-${sequence - 1}`,
    hash: `hash-${sequence}`,
    record: `<record ${sequence}/>`,
    fiscalId: `fiscal-${sequence}`,
    createdAt: tx.createdAt,
  })

  describe('transactions', () => {
    it('every field round trips; reads are scoped to the account', async () => {
      const at = await shop()
      const record = transaction(at, {
        responsePayload: { ok: true },
        fiscalId: 'F-1',
        submittedAt: momentOf(2),
      })
      assert.equal(await insert(record), true)
      assert.deepEqual(await t.store.get(at.accountId, record.id), record)
      assert.deepEqual(await t.store.byIdempotencyKey(at.accountId, record.idempotencyKey), record)
      assert.equal(await t.store.get(randomUUID(), record.id), undefined)
      assert.equal(await t.store.byIdempotencyKey(randomUUID(), record.idempotencyKey), undefined)
      const inside = await t.store.unit(async (unit) => ({
        locked: await unit.findTransaction(at.accountId, record.id, true),
        byKey: await unit.findByIdempotencyKey(at.accountId, record.idempotencyKey),
        stranger: await unit.findTransaction(randomUUID(), record.id),
      }))
      assert.deepEqual(inside, { locked: record, byKey: record, stranger: undefined })
    })

    it('an idempotency key is used once per account: a second insert is a no-op answering false', async () => {
      const at = await shop()
      const first = transaction(at)
      const again = transaction(at, { idempotencyKey: first.idempotencyKey, amount: 1 })
      const results = await Promise.all([insert(first), insert(again, t.build())])
      assert.deepEqual(results.sort(), [false, true])
      const stored = await t.store.byIdempotencyKey(at.accountId, first.idempotencyKey)
      assert.ok(stored && [first.id, again.id].includes(stored.id))
      const other = await shop()
      assert.equal(await insert(transaction(other, { idempotencyKey: first.idempotencyKey })), true)
    })

    it('a transaction is cancelled at most once', async () => {
      const at = await shop()
      const sale = transaction(at, { status: 'success' })
      await insert(sale)
      const cancellation = transaction(at, { type: 'cancellation', originalTransactionId: sale.id })
      await insert(cancellation)
      assert.deepEqual(await t.store.unit((unit) => unit.findCancellationOf(sale.id)), cancellation)
      await assert.rejects(insert(transaction(at, { type: 'cancellation', originalTransactionId: sale.id })))
      assert.equal(await t.store.unit((unit) => unit.findCancellationOf(cancellation.id)), undefined)
    })

    it('updateTransaction patches the given fields, as a compare-and-set with onlyFrom', async () => {
      const at = await shop()
      const record = transaction(at)
      await insert(record)
      const update = (patch: TransactionPatch, id = record.id) =>
        t.store.unit((unit) => unit.updateTransaction(id, patch))
      assert.equal(
        await update({ updatedAt: momentOf(2), status: 'success', onlyFrom: ['processing'] }),
        false,
      )
      assert.equal(await update({ updatedAt: momentOf(2), status: 'success', onlyFrom: [] }), false)
      assert.equal(await update({ updatedAt: momentOf(2), status: 'success' }, randomUUID()), false)
      assert.deepEqual(await t.store.get(at.accountId, record.id), record)
      const patch = {
        status: 'success' as const,
        responsePayload: { answer: [1, 2] },
        fiscalId: 'F-9',
        errorMessage: 'none',
        submittedAt: momentOf(3),
        completedAt: momentOf(4),
        updatedAt: momentOf(4),
      }
      assert.equal(await update({ ...patch, onlyFrom: ['pending', 'processing'] }), true)
      assert.deepEqual(await t.store.get(at.accountId, record.id), { ...record, ...patch })
      assert.equal(await update({ updatedAt: momentOf(5), responsePayload: null }), true)
      assert.equal((await t.store.get(at.accountId, record.id))?.responsePayload, null)
    })

    it('of two concurrent compare-and-sets from one status, exactly one wins', async () => {
      const at = await shop()
      const record = transaction(at, { status: 'success' })
      await insert(record)
      const results = await Promise.all(
        (['cancelled', 'failed'] as const).map((status, i) =>
          (i ? t.build() : t.store).unit((unit) =>
            unit.updateTransaction(record.id, { status, updatedAt: momentOf(6), onlyFrom: ['success'] }),
          ),
        ),
      )
      assert.deepEqual(results.filter(Boolean).length, 1)
      const stored = await t.store.get(at.accountId, record.id)
      assert.equal(stored?.status, results[0] ? 'cancelled' : 'failed')
    })

    it('list pages newest first with the total and filters by status', async () => {
      const at = await shop()
      const records = [1, 2, 3, 4].map((minute) =>
        transaction(at, { createdAt: momentOf(minute), status: minute % 2 ? 'success' : 'failed' }),
      )
      for (const r of records) await insert(r)
      const ids = (page: { data: TransactionRecord[] }) => page.data.map((r) => r.id)
      const first = await t.store.list(at.accountId, { limit: 3, offset: 0 })
      assert.deepEqual([ids(first), first.total], [[records[3]?.id, records[2]?.id, records[1]?.id], 4])
      assert.deepEqual(ids(await t.store.list(at.accountId, { limit: 3, offset: 3 })), [records[0]?.id])
      const failed = await t.store.list(at.accountId, { status: 'failed', limit: 10, offset: 0 })
      assert.deepEqual([ids(failed), failed.total], [[records[3]?.id, records[1]?.id], 2])
      assert.deepEqual(await t.store.list(at.accountId, { limit: 3, offset: 9 }), { data: [], total: 4 })
    })

    it('a unit that throws leaves nothing behind', async () => {
      const at = await shop()
      const record = transaction(at)
      await assert.rejects(
        t.store.unit(async (unit) => {
          await unit.insertTransaction(record)
          throw new Error('sealing failed')
        }),
      )
      assert.equal(await t.store.get(at.accountId, record.id), undefined)
    })
  })

  describe('chains and records', () => {
    it('lockChain reads what saveChain wrote, per location and environment', async () => {
      const at = await shop()
      await t.store.unit((unit) =>
        unit.saveChain(at.locationId, 'live', { lastSequence: 3, lastHash: 'h3', state: '{"n":3}' }),
      )
      const chains = await t.store.unit(async (unit) => [
        await unit.lockChain(at.locationId, 'live'),
        await unit.lockChain(at.locationId, 'test'),
      ])
      assert.deepEqual(chains[0], { lastSequence: 3, lastHash: 'h3', state: '{"n":3}' })
      assert.equal(chains[1]?.lastSequence, 0)
      await assert.rejects(t.store.unit((unit) => unit.lockChain(randomUUID(), 'test')))
    })

    it('concurrent units sealing one chain get sequences 1..n without gaps', async () => {
      const at = await shop()
      const UNITS = 16
      const stores = [t.store, t.build()]
      await Promise.all(
        Array.from({ length: UNITS }, (_, i) =>
          (stores[i % 2] as TransactionStore).unit(async (unit) => {
            const chain = await unit.lockChain(at.locationId, 'test')
            const tx = transaction(at)
            await unit.insertTransaction(tx)
            const sequence = chain.lastSequence + 1
            await unit.insertRecord(fiscalRecord(tx, sequence))
            await unit.saveChain(at.locationId, 'test', {
              ...chain,
              lastSequence: sequence,
              lastHash: `hash-${sequence}`,
            })
          }),
        ),
      )
      const { data } = await t.store.list(at.accountId, { limit: 100, offset: 0 })
      const paired = await t.store.withRecords(data.map((tx) => tx.id))
      assert.deepEqual(
        paired.map((p) => p.record?.sequence).sort((a = 0, b = 0) => a - b),
        oneTo(UNITS),
      )
    })

    it('a sequence is used once per chain; withRecords pairs transactions with their records', async () => {
      const at = await shop()
      const [a, b, c] = [transaction(at), transaction(at), transaction(at)]
      await t.store.unit(async (unit) => {
        for (const tx of [a, b, c]) await unit.insertTransaction(tx)
        await unit.insertRecord(fiscalRecord(a, 1))
      })
      await assert.rejects(t.store.unit((unit) => unit.insertRecord(fiscalRecord(b, 1))))
      await t.store.unit((unit) => unit.insertRecord({ ...fiscalRecord(b, 1), environment: 'live' }))
      assert.deepEqual(await t.store.unit((unit) => unit.findRecord(a.id)), fiscalRecord(a, 1))
      const paired = await t.store.withRecords([a.id, c.id, randomUUID()])
      const byId = new Map(paired.map((p) => [p.transaction.id, p.record]))
      assert.deepEqual([byId.size, byId.get(a.id), byId.get(c.id)], [2, fiscalRecord(a, 1), undefined])
      assert.deepEqual(await t.store.withRecords([]), [])
    })

    it('insertJob refuses a second job of a kind for the same subject', async () => {
      const at = await shop()
      const job = {
        id: randomUUID(),
        accountId: at.accountId,
        kind: 'submit',
        subjectId: randomUUID(),
        groupKey: at.locationId,
        maxAttempts: 3,
        runAt: 1,
        createdAt: momentOf(1),
      }
      await t.store.unit((unit) => unit.insertJob(job))
      await assert.rejects(t.store.unit((unit) => unit.insertJob({ ...job, id: randomUUID() })))
      await t.store.unit((unit) => unit.insertJob({ ...job, id: randomUUID(), kind: 'webhook' }))
    })
  })
})
