import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import type { SpainDocument } from '../../../src/markets/es/documents.ts'
import {
  ES_SUBMIT_JOB,
  type EsCashboxConfig,
  type EsRecord,
  type EsStore,
  type EsSubmissionJob,
  type NewEsRecord,
} from '../../../src/markets/es/cashbox/ports.ts'
import type { Storage } from '../../../src/storage/database.ts'
import { esCashboxStore } from '../../../src/markets/es/cashbox/store.ts'
import { moduleDatabase } from '../../../src/storage/module-database.ts'
import { jobStore } from '../../../src/storage/repositories/outbox-jobs.ts'
import { addCashbox, inUnit, momentOf } from './fixtures.ts'
import { runContract } from './runner.ts'

/** Spain on /v2/sign (markets/es/cashbox/ports.ts): configurations, records and their submission jobs. */
const build = (storage: Storage): EsStore => esCashboxStore(moduleDatabase(storage))

const NOW = 1_000_000

const config = (extra: Partial<EsCashboxConfig> = {}): EsCashboxConfig => ({
  system: 'ticketbai',
  territory: 'bizkaia',
  nif: 'B12345678',
  name: 'Tienda',
  series: 'A',
  rectifyingSeries: 'R',
  environment: 'test',
  ...extra,
})

const record = (queueId: string, seq: number, extra: Partial<NewEsRecord> = {}): NewEsRecord => ({
  queueId,
  seq,
  queueRow: seq + 10,
  receiptReference: `ref-${seq}`,
  invoiceNumber: `A-${seq}`,
  kind: 'alta',
  invoiceType: 'F2',
  // The store keeps the document as JSON and never looks inside it.
  document: { seq, lines: [{ text: 'café', amount: '1.50' }] } as unknown as SpainDocument,
  createdAt: momentOf(seq),
  ...extra,
})

const stored = (r: NewEsRecord, extra: Partial<EsRecord> = {}): EsRecord => ({
  ...r,
  status: 'pending',
  authority: null,
  sentAt: null,
  updatedAt: r.createdAt,
  ...extra,
})

await runContract('EsStore', { build, preparedPath: true }, (t) => {
  const configured = async () => {
    const box = await addCashbox(t.storage)
    assert.equal(await t.store.saveConfig(box.queueId, config(), momentOf(0)), true)
    return box
  }
  const job = (box: { accountId: string }, extra: Partial<EsSubmissionJob> = {}): EsSubmissionJob => ({
    id: randomUUID(),
    accountId: box.accountId,
    maxAttempts: 5,
    runAt: NOW,
    ...extra,
  })
  const insert = (
    box: { queueId: string; accountId: string },
    records: NewEsRecord[],
    extra: Partial<EsSubmissionJob> = {},
  ) =>
    inUnit(t.storage, async (unit) => {
      for (const r of records) await t.store.insertRecordIn(unit, r, job(box, extra))
    })
  const seqs = (records: EsRecord[]) => records.map((r) => r.seq)

  describe('configuration', () => {
    it('round trips inside and outside a unit; changes only while the cash box has no records', async () => {
      const box = await configured()
      assert.deepEqual(await t.store.config(box.queueId), config())
      assert.deepEqual(await inUnit(t.storage, (unit) => t.store.configIn(unit, box.queueId)), config())
      const verifactu = config({ system: 'verifactu', territory: undefined, name: 'Otra' })
      delete verifactu.territory
      assert.equal(await t.store.saveConfig(box.queueId, verifactu, momentOf(1)), true)
      assert.deepEqual(await t.store.config(box.queueId), verifactu)
      await insert(box, [record(box.queueId, 1)])
      assert.equal(await t.store.saveConfig(box.queueId, config(), momentOf(2)), false)
      assert.deepEqual(await t.store.config(box.queueId), verifactu)
      assert.equal(await t.store.config(randomUUID()), undefined)
    })

    it('accountOfIn names the account of the queue', async () => {
      const box = await configured()
      assert.equal(await inUnit(t.storage, (unit) => t.store.accountOfIn(unit, box.queueId)), box.accountId)
    })
  })

  describe('records', () => {
    it('insertRecordIn stores the record pending, with its submission job, in seq order', async () => {
      const box = await configured()
      const written = [3, 1, 2].map((seq) => record(box.queueId, seq))
      const openBefore = await jobStore(t.storage).openCount()
      await insert(box, written)
      assert.deepEqual(
        await t.store.records(box.queueId, { afterSeq: 0, limit: 10 }),
        [1, 2, 3].map((seq) => stored(record(box.queueId, seq))),
      )
      assert.equal(await jobStore(t.storage).openCount(), openBefore + 3, 'one submission job per record')
    })

    it('pages after a seq and filters by status and queue row, within one cash box', async () => {
      const [a, b] = [await configured(), await configured()]
      await insert(
        a,
        [1, 2, 3, 4, 5].map((seq) => record(a.queueId, seq)),
      )
      await insert(
        b,
        [1, 2].map((seq) => record(b.queueId, seq)),
      )
      assert.deepEqual(seqs(await t.store.records(a.queueId, { afterSeq: 1, limit: 2 })), [2, 3])
      assert.deepEqual(seqs(await t.store.records(a.queueId, { afterSeq: 3, limit: 10 })), [4, 5])
      await t.store.setStatus(a.queueId, 2, 'accepted', { state: 'Correcto' })
      await t.store.setStatus(a.queueId, 4, 'rejected', { state: 'Incorrecto' })
      assert.deepEqual(
        seqs(await t.store.records(a.queueId, { afterSeq: 0, limit: 10, status: 'pending' })),
        [1, 3, 5],
      )
      assert.deepEqual(seqs(await t.store.records(a.queueId, { afterSeq: 0, limit: 10, queueRow: 13 })), [3])
      assert.deepEqual(seqs(await t.store.recordsBySeq(a.queueId, [5, 1, 3])), [1, 3, 5])
      assert.deepEqual(await t.store.recordsBySeq(a.queueId, []), [])
      assert.deepEqual(await t.store.pendingBelow(a.queueId, 5, 10), [1, 3])
      assert.deepEqual(await t.store.pendingBelow(a.queueId, 5, 1), [1], 'the first ones, in chain order')
      assert.deepEqual(await t.store.pendingBelow(b.queueId, 5, 10), [1, 2])
    })

    it("openSubmission gives a record's open job, due time and status; none once it is done", async () => {
      const box = await configured()
      await insert(box, [record(box.queueId, 1)])
      const open = await t.store.openSubmission(box.queueId, 1)
      assert.equal(open?.status, 'pending')
      assert.equal(open?.runAt, job(box).runAt)
      assert.equal(await t.store.openSubmission(box.queueId, 2), undefined, 'no record, no job')
      const claimed = await jobStore(t.storage).claimDue('worker', NOW + 1_000, 60_000, [
        { limit: 10_000, only: ES_SUBMIT_JOB },
      ])
      assert.ok(claimed.some((c) => c.subjectId === `${box.queueId}:1`))
      assert.equal((await t.store.openSubmission(box.queueId, 1))?.status, 'processing')
    })

    it('a seq, or an invoice number of a kind, is stored once; the failed unit leaves no job', async () => {
      const box = await configured()
      await insert(box, [record(box.queueId, 1)])
      const duplicateSeq = record(box.queueId, 1, { invoiceNumber: 'A-99' })
      const duplicateInvoice = record(box.queueId, 2, { invoiceNumber: 'A-1' })
      for (const duplicate of [duplicateSeq, duplicateInvoice]) {
        const jobId = randomUUID()
        await assert.rejects(
          inUnit(t.storage, (unit) => t.store.insertRecordIn(unit, duplicate, { ...job(box), id: jobId })),
        )
        assert.equal(await jobStore(t.storage).find({ accountId: box.accountId }, jobId), undefined)
      }
      // A cancellation of the same invoice number is another kind.
      await insert(box, [
        record(box.queueId, 2, { invoiceNumber: 'A-1', kind: 'anulacion', invoiceType: null }),
      ])
      assert.deepEqual(seqs(await t.store.records(box.queueId, { afterSeq: 0, limit: 10 })), [1, 2])
    })

    it('invoiceOfReferenceIn finds the invoice of a reference and whether it was cancelled', async () => {
      const box = await configured()
      const invoice = record(box.queueId, 1)
      await insert(box, [invoice])
      const find = (reference: string) =>
        inUnit(t.storage, (unit) => t.store.invoiceOfReferenceIn(unit, box.queueId, reference))
      assert.deepEqual(await find('ref-1'), { invoice: stored(invoice), cancelled: false })
      assert.equal(await find('ref-unknown'), undefined)
      await insert(box, [
        record(box.queueId, 2, {
          receiptReference: 'ref-2',
          invoiceNumber: 'A-1',
          kind: 'anulacion',
          invoiceType: null,
        }),
      ])
      assert.equal((await find('ref-1'))?.cancelled, true)
      assert.equal(await find('ref-2'), undefined, 'a cancellation is no invoice')
    })

    it('heldOf names the records whose job waits for a batch window past now', async () => {
      const box = await configured()
      await insert(box, [record(box.queueId, 1), record(box.queueId, 2)], {
        runAt: NOW + 60,
        batchWindow: 'lroe',
      })
      await insert(box, [record(box.queueId, 3)], { runAt: NOW + 60 })
      await insert(box, [record(box.queueId, 4)], { runAt: NOW - 1, batchWindow: 'lroe' })
      const held = await t.store.heldOf(box.queueId, [1, 2, 3, 4], NOW)
      assert.deepEqual([...held.entries()].sort(), [
        [1, { window: 'lroe', until: NOW + 60 }],
        [2, { window: 'lroe', until: NOW + 60 }],
      ])
      assert.deepEqual(await t.store.heldOf(box.queueId, [], NOW), new Map())
    })
  })

  describe('submission state', () => {
    it('markSent stamps the first hand-over only', async () => {
      const box = await configured()
      await insert(box, [record(box.queueId, 1), record(box.queueId, 2)])
      await t.store.markSent(box.queueId, [1], momentOf(5))
      await t.store.markSent(box.queueId, [1, 2], momentOf(6))
      const sent = await t.store.recordsBySeq(box.queueId, [1, 2])
      assert.deepEqual(
        sent.map((r) => r.sentAt),
        [momentOf(5), momentOf(6)],
      )
    })

    it('setStatus answers pending records only; setStatusIn honours onlyFrom and keeps the authority when told', async () => {
      const box = await configured()
      await insert(box, [record(box.queueId, 1), record(box.queueId, 2)])
      await t.store.setStatus(box.queueId, 1, 'rejected', { code: 1 })
      await t.store.setStatus(box.queueId, 1, 'accepted', { code: 2 })
      let [first] = await t.store.recordsBySeq(box.queueId, [1])
      assert.deepEqual([first?.status, first?.authority], ['rejected', { code: 1 }])
      await inUnit(t.storage, (unit) =>
        t.store.setStatusIn(unit, box.queueId, 1, 'failed_permanent', undefined, 'pending'),
      )
      ;[first] = await t.store.recordsBySeq(box.queueId, [1])
      assert.equal(first?.status, 'rejected', 'a rejected record stays rejected')
      await inUnit(t.storage, (unit) =>
        t.store.setStatusIn(unit, box.queueId, 1, 'failed_permanent', undefined),
      )
      ;[first] = await t.store.recordsBySeq(box.queueId, [1])
      assert.deepEqual([first?.status, first?.authority], ['failed_permanent', { code: 1 }])
      await assert.rejects(
        inUnit(t.storage, async (unit) => {
          await t.store.setStatusIn(unit, box.queueId, 2, 'accepted', { code: 3 })
          throw new Error('the attempt failed')
        }),
      )
      const [second] = await t.store.recordsBySeq(box.queueId, [2])
      assert.deepEqual([second?.status, second?.authority], ['pending', null], 'rolled back with its unit')
    })
  })
})
