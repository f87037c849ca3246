import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { sql } from 'kysely'
import type { CashboxStore } from '../../../src/core/ports.ts'
import { openStorage, type Storage } from '../../../src/storage/database.ts'
import { migrations as allMigrations } from '../../../src/storage/migrations/index.ts'
import { cashboxRepository, metaRepository } from '../../../src/storage/repositories/cashboxes.ts'
import { journalRepository } from '../../../src/storage/repositories/journal.ts'
import { newCashbox } from './fixtures.ts'
import { runContract } from './runner.ts'

/** The core's CashboxStore (src/core/ports.ts), with the meta table it sits beside. */
const build = (storage: Storage) => ({
  cashboxes: cashboxRepository(storage) as CashboxStore,
  meta: metaRepository(storage),
})

await runContract('CashboxStore', { build }, (t) => {
  describe('cash boxes', () => {
    it('inserts a cash box with its queue and key, and finds it', async () => {
      const box = newCashbox()
      await t.store.cashboxes.insert(box)
      assert.deepEqual(await t.store.cashboxes.find(box.cashbox.id), { ...box.cashbox, queueId: box.queueId })
      assert.deepEqual(await t.store.cashboxes.signingKey(box.queueId), box.key)
      assert.equal(await t.store.cashboxes.find(randomUUID()), undefined)
      assert.equal(await t.store.cashboxes.signingKey(randomUUID()), undefined)
      const queue = await journalRepository(t.storage).queue(box.queueId)
      assert.equal(queue?.current_row, 0)
      assert.equal(queue?.last_receipt_hash, box.queue.genesisHash)
      assert.equal(typeof queue?.current_row, 'number', 'counters read back as numbers on every engine')
    })

    it('lists cash boxes in the order they were created', async () => {
      // Five, so that an order by anything else (the random ids) matches by chance once in 120 runs only.
      const boxes = [3, 1, 5, 2, 4].map((minute) => {
        const box = newCashbox()
        box.cashbox.createdAt = `2020-01-01T00:0${minute}:00.000Z`
        return box
      })
      for (const box of boxes) await t.store.cashboxes.insert(box)
      const listed = (await t.store.cashboxes.list()).map((c) => c.id)
      const ours = listed.filter((id) => boxes.some((b) => b.cashbox.id === id))
      assert.deepEqual(
        ours,
        [1, 3, 0, 4, 2].map((i) => boxes[i]?.cashbox.id),
      )
    })

    it('a second cash box of an existing account keeps the account', async () => {
      const first = newCashbox()
      const second = newCashbox()
      second.accountName = 'renamed'
      await t.store.cashboxes.insert(first)
      await t.store.cashboxes.insert(second)
      assert.equal((await t.store.cashboxes.find(second.cashbox.id))?.accountId, first.cashbox.accountId)
    })

    it('writes all of a cash box or nothing: a clash on the queue leaves no cash box behind', async () => {
      const first = newCashbox()
      await t.store.cashboxes.insert(first)
      const clash = newCashbox()
      // Same queue id as the first cash box: the queue insert fails after the cash box row was written.
      await assert.rejects(
        t.store.cashboxes.insert({ ...clash, queue: { ...clash.queue, id: first.queueId } }),
      )
      assert.equal(await t.store.cashboxes.find(clash.cashbox.id), undefined)
      const orphan = await t.storage.db
        .selectFrom('cashboxes')
        .select('id')
        .where('id', '=', clash.cashbox.id)
        .executeTakeFirst()
      assert.equal(orphan, undefined)
    })

    it('refuses a second cash box with the same id', async () => {
      const box = newCashbox()
      await t.store.cashboxes.insert(box)
      const again = newCashbox()
      await assert.rejects(
        t.store.cashboxes.insert({ ...again, cashbox: { ...again.cashbox, id: box.cashbox.id } }),
      )
      assert.equal((await t.store.cashboxes.find(box.cashbox.id))?.queueId, box.queueId)
    })
  })

  describe('meta', () => {
    it('putIfAbsent keeps the first value, also when two race', async () => {
      const key = `contract-${randomUUID()}`
      assert.equal(await t.store.meta.get(key), undefined)
      const [a, b] = await Promise.all([
        t.store.meta.putIfAbsent(key, 'a'),
        t.build().meta.putIfAbsent(key, 'b'),
      ])
      assert.equal(a, b, 'both callers are answered the one stored value')
      assert.equal(await t.store.meta.putIfAbsent(key, 'c'), a)
      assert.equal(await t.store.meta.get(key), a)
    })
  })

  describe('migrations', () => {
    it('are idempotent: opening the database again migrates nothing and keeps the data', async () => {
      const box = newCashbox()
      await t.store.cashboxes.insert(box)
      const names = async (s: Storage) =>
        (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(s.db)).rows
      const before = await names(t.storage)
      assert.deepEqual(
        before.map((m) => m.name),
        Object.keys(allMigrations).sort(),
      )
      // Sequentially, then two at once while the first storage is still open.
      await (await openStorage(t.url, { poolSize: 2 })).close()
      const [a, b] = await Promise.all([
        openStorage(t.url, { poolSize: 2 }),
        openStorage(t.url, { poolSize: 2 }),
      ])
      try {
        assert.deepEqual(await names(a), before)
        assert.deepEqual(await names(b), before)
        assert.equal((await cashboxRepository(b).find(box.cashbox.id))?.queueId, box.queueId)
      } finally {
        await a.close()
        await b.close()
      }
    })
  })
})
