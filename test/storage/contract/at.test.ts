import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { ErrorCode, FiscalError } from '../../../src/core/errors.ts'
import type {
  AtCashboxConfig,
  AtDeviceRecord,
  AtReceiptRecord,
  AtStore,
} from '../../../src/markets/at/ports.ts'
import type { Storage } from '../../../src/storage/database.ts'
import { atStore } from '../../../src/markets/at/store.ts'
import { moduleDatabase } from '../../../src/storage/module-database.ts'
import { addCashbox, inUnit, momentOf } from './fixtures.ts'
import { runContract } from './runner.ts'

/** The Austrian market's store (markets/at/ports.ts); its per-receipt statements have a prepared copy. */
const build = (storage: Storage): AtStore => atStore(moduleDatabase(storage))

const config = (queueId: string): AtCashboxConfig => ({
  queueId,
  kassenId: `kasse-${queueId.slice(0, 8)}`,
  aesKeyEncrypted: 'v1.iv.tag.aes',
  aesKeyCheck: 'check',
  counterSize: 8,
  createdAt: momentOf(0),
})

const device = (queueId: string, number: number, extra: Partial<AtDeviceRecord> = {}): AtDeviceRecord => ({
  queueId,
  number,
  provider: number === 0 ? 'AT0' : 'AT1',
  certificateField: `serial-${number}`,
  publicKey: `public-${number}`,
  certificate: number % 2 ? `certificate-${number}` : null,
  privateKeyEncrypted: `sealed-${number}`,
  outOfServiceSince: null,
  createdAt: momentOf(number),
  ...extra,
})

const receipt = (queueId: string, seq: number, extra: Partial<AtReceiptRecord> = {}): AtReceiptRecord => ({
  queueId,
  seq,
  receiptId: `beleg-${seq}`,
  queueRow: seq + 100,
  moment: momentOf(seq),
  kind: seq % 3 ? 'STANDARD' : 'STORNO',
  deviceNumber: seq % 2,
  failed: seq % 4 === 0,
  jws: `header.payload-${seq}.signature`,
  ...extra,
})

/** A provisioned Austrian cash box with devices 2, 0 and 1 (stored out of order on purpose). */
async function provisioned(store: AtStore, storage: Storage) {
  const { queueId } = await addCashbox(storage)
  const devices = [2, 0, 1].map((n) => device(queueId, n))
  await store.insertCashbox(config(queueId), devices)
  return { queueId, devices }
}

const alreadyConfigured = (error: unknown) =>
  error instanceof FiscalError && error.code === ErrorCode.AlreadyConfigured

await runContract('AtStore', { build, preparedPath: true }, (t) => {
  describe('cash boxes and devices', () => {
    it('certifiedDevices lists the devices with a certificate, of every cash box', async () => {
      const first = await provisioned(t.store, t.storage)
      const second = await provisioned(t.store, t.storage)
      const mine = new Set([first.queueId, second.queueId])
      const listed = (await t.store.certifiedDevices()).filter((d) => mine.has(d.queueId))
      const expected = [...first.devices, ...second.devices].filter((d) => d.certificate !== null)
      const key = (d: AtDeviceRecord) => `${d.queueId}:${d.number}`
      assert.deepEqual(listed.map(key).sort(), expected.map(key).sort())
      assert.deepEqual(
        listed.find((d) => d.queueId === first.queueId),
        first.devices.find((d) => d.number === 1),
      )
    })

    it('stores a cash box with its devices; both reads list the devices by number', async () => {
      const { queueId, devices } = await provisioned(t.store, t.storage)
      const byNumber = [...devices].sort((a, b) => a.number - b.number)
      assert.deepEqual(await t.store.config(queueId), config(queueId))
      assert.deepEqual(await t.store.devices(queueId), byNumber)
      const inside = await inUnit(t.storage, async (unit) => ({
        config: await t.store.configIn(unit, queueId),
        devices: await t.store.devicesIn(unit, queueId),
      }))
      assert.deepEqual(inside, { config: config(queueId), devices: byNumber })
      assert.equal(await t.store.config(randomUUID()), undefined)
      assert.deepEqual(await t.store.devices(randomUUID()), [])
    })

    it('provisions a queue once: the second try changes nothing, its devices included', async () => {
      const { queueId } = await provisioned(t.store, t.storage)
      await assert.rejects(
        t.store.insertCashbox({ ...config(queueId), kassenId: 'other' }, [device(queueId, 7)]),
        alreadyConfigured,
      )
      assert.equal((await t.store.config(queueId))?.kassenId, config(queueId).kassenId)
      assert.deepEqual(
        (await t.store.devices(queueId)).map((d) => d.number),
        [0, 1, 2],
      )
    })

    it('refuses a device whose number or key id the cash box uses already', async () => {
      const { queueId } = await provisioned(t.store, t.storage)
      await assert.rejects(
        t.store.insertDevice(device(queueId, 1, { certificateField: 'new' })),
        alreadyConfigured,
      )
      await assert.rejects(
        t.store.insertDevice(device(queueId, 9, { certificateField: 'serial-1' })),
        alreadyConfigured,
      )
      await t.store.insertDevice(device(queueId, 9))
      // Another cash box may use the same number and key id.
      const other = await provisioned(t.store, t.storage)
      await t.store.insertDevice(device(other.queueId, 9))
      assert.deepEqual(
        (await t.store.devices(queueId)).map((d) => d.number),
        [0, 1, 2, 9],
      )
    })

    it('switches a device out of service and back; an unknown device answers false', async () => {
      const { queueId } = await provisioned(t.store, t.storage)
      assert.equal(await t.store.setOutOfService(queueId, 1, momentOf(5)), true)
      const out = await inUnit(t.storage, (unit) => t.store.devicesIn(unit, queueId))
      assert.deepEqual(
        out.map((d) => d.outOfServiceSince),
        [null, momentOf(5), null],
      )
      assert.equal(await t.store.setOutOfService(queueId, 1, null), true)
      assert.equal((await t.store.devices(queueId))[1]?.outOfServiceSince, null)
      assert.equal(await t.store.setOutOfService(queueId, 42, momentOf(5)), false)
    })
  })

  describe('receipts', () => {
    it('every field of a receipt written in a unit reads back unchanged, in seq order', async () => {
      const { queueId } = await provisioned(t.store, t.storage)
      const written = [3, 1, 4, 2].map((seq) => receipt(queueId, seq))
      await inUnit(t.storage, async (unit) => {
        for (const r of written) await t.store.insertReceiptIn(unit, r)
      })
      assert.deepEqual(
        await t.store.receipts(queueId, 0, 100, {}),
        [1, 2, 3, 4].map((seq) => receipt(queueId, seq)),
      )
    })

    it('pages by seq after a cursor, within an inclusive moment range, within one queue', async () => {
      const [a, b] = [await provisioned(t.store, t.storage), await provisioned(t.store, t.storage)]
      await inUnit(t.storage, async (unit) => {
        for (let seq = 1; seq <= 9; seq++) {
          await t.store.insertReceiptIn(unit, receipt(a.queueId, seq))
          await t.store.insertReceiptIn(unit, receipt(b.queueId, seq))
        }
      })
      const seqs = (rows: AtReceiptRecord[]) => rows.map((r) => r.seq)
      assert.deepEqual(seqs(await t.store.receipts(a.queueId, 0, 4, {})), [1, 2, 3, 4])
      assert.deepEqual(seqs(await t.store.receipts(a.queueId, 4, 4, {})), [5, 6, 7, 8])
      assert.deepEqual(seqs(await t.store.receipts(a.queueId, 8, 4, {})), [9])
      const range = { from: momentOf(3), to: momentOf(6) }
      assert.deepEqual(seqs(await t.store.receipts(a.queueId, 0, 100, range)), [3, 4, 5, 6])
      assert.deepEqual(seqs(await t.store.receipts(a.queueId, 4, 1, range)), [5])
      assert.ok((await t.store.receipts(a.queueId, 0, 100, {})).every((r) => r.queueId === a.queueId))
    })

    it('a reused Belegnummer is refused as invalid input and rolls back its unit', async () => {
      const { queueId } = await provisioned(t.store, t.storage)
      await inUnit(t.storage, (unit) => t.store.insertReceiptIn(unit, receipt(queueId, 1)))
      await assert.rejects(
        inUnit(t.storage, async (unit) => {
          await t.store.insertReceiptIn(unit, receipt(queueId, 2, { receiptId: 'fresh' }))
          await t.store.insertReceiptIn(unit, receipt(queueId, 3, { receiptId: 'beleg-1' }))
        }),
        (error) => error instanceof FiscalError && error.code === ErrorCode.ValidationError,
      )
      assert.deepEqual(
        (await t.store.receipts(queueId, 0, 100, {})).map((r) => r.seq),
        [1],
      )
      // Another cash box may use the same Belegnummer.
      const other = await provisioned(t.store, t.storage)
      await inUnit(t.storage, (unit) => t.store.insertReceiptIn(unit, receipt(other.queueId, 1)))
    })

    it('refuses a second receipt with the same seq', async () => {
      const { queueId } = await provisioned(t.store, t.storage)
      await inUnit(t.storage, (unit) => t.store.insertReceiptIn(unit, receipt(queueId, 1)))
      await assert.rejects(
        inUnit(t.storage, (unit) =>
          t.store.insertReceiptIn(unit, receipt(queueId, 1, { receiptId: 'other' })),
        ),
      )
    })
  })
})
