import type { Kysely, Selectable } from 'kysely'
import { ErrorCode, FiscalError, invalid } from '../../core/errors.ts'
import type { UnitOfWork } from '../../core/ports.ts'
import type { AtCashboxConfig, AtDeviceRecord, AtReceiptRecord, AtStore } from '../../markets/at/ports.ts'
import type { Storage } from '../database.ts'
import type { AtSignatureDeviceTable, Database } from '../schema.ts'
import { transactionOf } from './ledger.ts'

const toDevice = (row: Selectable<AtSignatureDeviceTable>): AtDeviceRecord => ({
  queueId: row.queue_id,
  number: row.number,
  provider: row.provider,
  certificateField: row.certificate_field,
  publicKey: row.public_key,
  certificate: row.certificate,
  privateKeyEncrypted: row.private_key_encrypted,
  outOfServiceSince: row.out_of_service_since,
  createdAt: row.created_at,
})

const deviceRow = (d: AtDeviceRecord): AtSignatureDeviceTable => ({
  queue_id: d.queueId,
  number: d.number,
  provider: d.provider,
  certificate_field: d.certificateField,
  public_key: d.publicKey,
  certificate: d.certificate,
  private_key_encrypted: d.privateKeyEncrypted,
  out_of_service_since: d.outOfServiceSince,
  created_at: d.createdAt,
})

/** SQLite and PostgreSQL name a UNIQUE / PRIMARY KEY violation differently. */
const isUniqueViolation = (error: unknown): boolean => {
  const code = String((error as { code?: unknown }).code ?? '')
  return (
    code === '23505' || code.startsWith('SQLITE_CONSTRAINT_PRIMARYKEY') || code === 'SQLITE_CONSTRAINT_UNIQUE'
  )
}

const devicesOf = (db: Kysely<Database>, queueId: string) =>
  db
    .selectFrom('at_signature_devices')
    .selectAll()
    .where('queue_id', '=', queueId)
    .orderBy('number')
    .execute()
    .then((rows) => rows.map(toDevice))

async function configOf(db: Kysely<Database>, queueId: string): Promise<AtCashboxConfig | undefined> {
  const row = await db
    .selectFrom('at_cashboxes')
    .selectAll()
    .where('queue_id', '=', queueId)
    .executeTakeFirst()
  if (!row) return undefined
  return {
    queueId: row.queue_id,
    kassenId: row.kassen_id,
    aesKeyEncrypted: row.aes_key_encrypted,
    aesKeyCheck: row.aes_key_check,
    counterSize: row.counter_size,
    createdAt: row.created_at,
  }
}

/**
 * On SQLite the two statements of every receipt run prepared on the writing connection, as the ledger's
 * do (storage/repositories/ledger.ts): a Kysely query is built, compiled and prepared anew each time.
 * They are used only inside a unit of work, where the group commit holds the writer in its transaction.
 */
function sqliteHotPath(storage: Storage) {
  const writer = storage.sqlite?.writer
  if (!writer) return undefined
  const devices = writer.prepare<[string], Selectable<AtSignatureDeviceTable>>(
    'select * from at_signature_devices where queue_id = ? order by number',
  )
  const insert = writer.prepare(
    'insert into at_receipts (queue_id, seq, receipt_id, queue_row, moment, kind, device_number, failed, jws) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  )
  return {
    devices: (queueId: string) => devices.all(queueId).map(toDevice),
    insert: (r: AtReceiptRecord) =>
      insert.run(
        r.queueId,
        r.seq,
        r.receiptId,
        r.queueRow,
        r.moment,
        r.kind,
        r.deviceNumber,
        r.failed ? 1 : 0,
        r.jws,
      ),
  }
}

export function atRepository(storage: Storage): AtStore {
  const hot = sqliteHotPath(storage)
  return {
    async insertCashbox(config, devices) {
      try {
        await storage.transact(async (trx) => {
          await trx
            .insertInto('at_cashboxes')
            .values({
              queue_id: config.queueId,
              kassen_id: config.kassenId,
              aes_key_encrypted: config.aesKeyEncrypted,
              aes_key_check: config.aesKeyCheck,
              counter_size: config.counterSize,
              created_at: config.createdAt,
            })
            .execute()
          for (const device of devices)
            await trx.insertInto('at_signature_devices').values(deviceRow(device)).execute()
        })
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new FiscalError(
            ErrorCode.AlreadyConfigured,
            'this cash box is already provisioned for Austria: its Kassen-ID and AES key never change; add devices with POST /at/v1/signature-devices',
            { field: 'headers.x-cashbox-id', reason: 'the cash box is provisioned once' },
          )
        }
        throw error
      }
    },
    async insertDevice(device) {
      try {
        await storage.transact((trx) =>
          trx.insertInto('at_signature_devices').values(deviceRow(device)).execute(),
        )
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new FiscalError(
            ErrorCode.AlreadyConfigured,
            `signature device ${device.number} (or its key id / serial ${device.certificateField}) already exists on this cash box`,
            { field: 'number', reason: 'device numbers, key ids and serials are unique per cash box' },
          )
        }
        throw error
      }
    },
    async setOutOfService(queueId, number, since) {
      const result = await storage.transact((trx) =>
        trx
          .updateTable('at_signature_devices')
          .set({ out_of_service_since: since })
          .where('queue_id', '=', queueId)
          .where('number', '=', number)
          .executeTakeFirst(),
      )
      return Number(result.numUpdatedRows) > 0
    },
    config: (queueId) => configOf(storage.db, queueId),
    configIn: (unit, queueId) => configOf(transactionOf(unit), queueId),
    devices: (queueId) => devicesOf(storage.db, queueId),
    async receipts(queueId, afterSeq, limit, range) {
      let query = storage.db
        .selectFrom('at_receipts')
        .selectAll()
        .where('queue_id', '=', queueId)
        .where('seq', '>', afterSeq)
      if (range.from) query = query.where('moment', '>=', range.from)
      if (range.to) query = query.where('moment', '<=', range.to)
      const rows = await query.orderBy('seq').limit(limit).execute()
      return rows.map(
        (r): AtReceiptRecord => ({
          queueId: r.queue_id,
          seq: r.seq,
          receiptId: r.receipt_id,
          queueRow: r.queue_row,
          moment: r.moment,
          kind: r.kind,
          deviceNumber: r.device_number,
          failed: r.failed === 1,
          jws: r.jws,
        }),
      )
    },
    devicesIn: async (unit: UnitOfWork, queueId) =>
      hot ? hot.devices(queueId) : devicesOf(transactionOf(unit), queueId),
    async insertReceiptIn(unit, r) {
      try {
        if (hot) {
          hot.insert(r)
          return
        }
        await transactionOf(unit)
          .insertInto('at_receipts')
          .values({
            queue_id: r.queueId,
            seq: r.seq,
            receipt_id: r.receiptId,
            queue_row: r.queueRow,
            moment: r.moment,
            kind: r.kind,
            device_number: r.deviceNumber,
            failed: r.failed ? 1 : 0,
            jws: r.jws,
          })
          .execute()
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw invalid(
            'cbReceiptReference',
            `Belegnummer ${JSON.stringify(r.receiptId)} was already used on this cash box: every Austrian receipt needs a reference of its own`,
          )
        }
        throw error
      }
    },
  }
}
