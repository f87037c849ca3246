import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import type { Chain } from '../../../src/markets/fr/documents.ts'
import type { FrEntry, FrStore } from '../../../src/markets/fr/ports.ts'
import { frStore } from '../../../src/markets/fr/store.ts'
import type { Storage } from '../../../src/storage/database.ts'
import { moduleDatabase } from '../../../src/storage/module-database.ts'
import { inUnit, momentOf } from './fixtures.ts'
import { runContract } from './runner.ts'

/** The French market's store (markets/fr/ports.ts); its per-receipt insert has a prepared copy. */
const build = (storage: Storage): FrStore => frStore(moduleDatabase(storage))

const entry = (queueId: string, chain: Chain, n: number, extra: Partial<FrEntry> = {}): FrEntry => ({
  queueId,
  chain,
  n,
  queueRow: n + 10,
  moment: momentOf(n),
  localDay: '2026-03-15',
  reference: `R-${chain}${n}`,
  copiedReference: null,
  jws: `header.${chain}${n}.signature`,
  ...extra,
})

await runContract('FrStore', { build, preparedPath: true }, (t) => {
  describe('configuration', () => {
    it('keeps a version per change; the same values keep theirs; both reads agree', async () => {
      const cashboxId = randomUUID()
      assert.equal(await t.store.config(cashboxId), undefined)
      const first = await t.store.putConfig(cashboxId, '73282932000074', 'Café', momentOf(1))
      assert.deepEqual(first, { siret: '73282932000074', name: 'Café', version: 1, updatedAt: momentOf(1) })
      assert.deepEqual(await t.store.putConfig(cashboxId, '73282932000074', 'Café', momentOf(2)), first)
      const changed = await t.store.putConfig(cashboxId, '73282932000074', 'Café du Port', momentOf(3))
      assert.deepEqual(changed, {
        siret: '73282932000074',
        name: 'Café du Port',
        version: 2,
        updatedAt: momentOf(3),
      })
      assert.deepEqual(await t.store.config(cashboxId), changed)
      assert.deepEqual(await inUnit(t.storage, (unit) => t.store.configIn(unit, cashboxId)), changed)
      assert.equal(await inUnit(t.storage, (unit) => t.store.configIn(unit, randomUUID())), undefined)
    })
  })

  describe('entries', () => {
    it('keeps the entries of a unit of work, and reads a chain in number order by range and page', async () => {
      // No foreign key to queues: a /v1 location's queue id is not a cash box's.
      const queueId = randomUUID()
      await inUnit(t.storage, (unit) =>
        t.store.insertEntriesIn(
          unit,
          [3, 1, 2, 4].map((n) => entry(queueId, 'T', n)),
        ),
      )
      await inUnit(t.storage, (unit) => t.store.insertEntriesIn(unit, [entry(queueId, 'G', 1)]))
      assert.deepEqual(await t.store.entries(queueId, 'T', 2, 4, 10), [
        'header.T2.signature',
        'header.T3.signature',
        'header.T4.signature',
      ])
      assert.deepEqual(await t.store.entries(queueId, 'T', 1, 4, 2), [
        'header.T1.signature',
        'header.T2.signature',
      ])
      assert.deepEqual(await t.store.entries(randomUUID(), 'T', 1, 4, 10), [])
    })

    it('an entry is stored once: a second one of the same chain and number fails and rolls back its unit', async () => {
      const queueId = randomUUID()
      await inUnit(t.storage, (unit) => t.store.insertEntriesIn(unit, [entry(queueId, 'T', 1)]))
      await assert.rejects(
        inUnit(t.storage, (unit) =>
          t.store.insertEntriesIn(unit, [entry(queueId, 'L', 1), entry(queueId, 'T', 1, { jws: 'other' })]),
        ),
      )
      assert.deepEqual(await t.store.entries(queueId, 'T', 1, 1, 10), ['header.T1.signature'])
      assert.deepEqual(await t.store.entries(queueId, 'L', 1, 1, 10), [])
    })

    it('counts originals and duplicates of a reference, and spans a period per chain', async () => {
      const queueId = randomUUID()
      await inUnit(t.storage, (unit) =>
        t.store.insertEntriesIn(unit, [
          entry(queueId, 'T', 1, { localDay: '2026-02-28' }),
          entry(queueId, 'T', 2, { reference: 'R-X' }),
          entry(queueId, 'T', 3, { localDay: '2026-03-31' }),
          entry(queueId, 'C', 1, { reference: 'copy-1', copiedReference: 'R-X' }),
          entry(queueId, 'C', 2, { reference: 'copy-2', copiedReference: 'R-X', localDay: '2026-04-01' }),
        ]),
      )
      const found = await inUnit(t.storage, async (unit) => ({
        copies: await t.store.copiesIn(unit, queueId, 'R-X'),
        none: await t.store.copiesIn(unit, queueId, 'R-none'),
        spans: await t.store.spansIn(unit, queueId, '2026-03-01', '2026-03-31'),
      }))
      assert.deepEqual(found.copies, { originals: 1, copies: 2 })
      assert.deepEqual(found.none, { originals: 0, copies: 0 })
      assert.deepEqual(found.spans, [
        {
          chain: 'C',
          first: { n: 1, jws: 'header.C1.signature' },
          last: { n: 1, jws: 'header.C1.signature' },
        },
        {
          chain: 'T',
          first: { n: 2, jws: 'header.T2.signature' },
          last: { n: 3, jws: 'header.T3.signature' },
        },
      ])
    })
  })
})
