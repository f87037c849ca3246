import { type Kysely, type Selectable, sql } from 'kysely'
import { ErrorCode, FiscalError, invalid } from '../../core/errors.ts'
import type { UnitOfWork } from '../../core/ports.ts'
import { type Count, isUniqueViolation, type ModuleDatabase } from '../module.ts'
import type { AtCashboxConfig, AtDeviceRecord, AtReceiptRecord, AtStore } from './ports.ts'

// Austria's tables (migration 003-at) and the AtStore on them.

/** Austria (RKSV): the Kassen-ID and the AES key (sealed by the master key) of a queue. */
export interface AtCashboxTable {
  queue_id: string
  /** The account of the queue's cash box (migration 018): the Kassen-ID is unique within it. */
  account_id: string | null
  kassen_id: string
  aes_key_encrypted: string
  /** Prüfwert of the AES key, as registered with FinanzOnline. */
  aes_key_check: string
  counter_size: number
  created_at: string
}

/** A signature device of an AT queue: closed system (AT0, key id) or certificate (AT1.., serial). */
export interface AtSignatureDeviceTable {
  queue_id: string
  number: number
  provider: string
  /** What the receipts carry in the certificate field: `{Ordnungsbegriff}-{key id}` or the serial in hex. */
  certificate_field: string
  /** base64 SPKI DER */
  public_key: string
  /** base64 DER, certificate mode only */
  certificate: string | null
  private_key_encrypted: string
  /** Set while the device is out of service (ISO moment it was reported), null when in service. */
  out_of_service_since: string | null
  created_at: string
}

/** Every signed (or failed-device) AT receipt in order: the source of the DEP7 export. */
export interface AtReceiptTable {
  queue_id: string
  seq: Count
  receipt_id: string
  queue_row: Count
  moment: string
  kind: string
  device_number: number
  failed: number
  jws: string
}

export interface AtTables {
  at_cashboxes: AtCashboxTable
  at_signature_devices: AtSignatureDeviceTable
  at_receipts: AtReceiptTable
}

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

const devicesOf = (db: Kysely<AtTables>, queueId: string) =>
  db
    .selectFrom('at_signature_devices')
    .selectAll()
    .where('queue_id', '=', queueId)
    .orderBy('number')
    .execute()
    .then((rows) => rows.map(toDevice))

async function configOf(db: Kysely<AtTables>, queueId: string): Promise<AtCashboxConfig | undefined> {
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

/** The account of a queue's cash box, as a subquery: at_cashboxes keeps it for its UNIQUE index. */
const accountOf = (queueId: string) =>
  sql<string>`(select c.account_id from queues q join cashboxes c on c.id = q.cashbox_id where q.id = ${queueId})`

/** The queue that holds this Kassen-ID in the account of the given queue, if any. */
async function kassenIdHolder(db: Kysely<AtTables>, config: AtCashboxConfig): Promise<string | undefined> {
  const row = await db
    .selectFrom('at_cashboxes')
    .select('queue_id')
    .where('kassen_id', '=', config.kassenId)
    .where('account_id', '=', accountOf(config.queueId))
    .executeTakeFirst()
  return row?.queue_id
}

/**
 * On SQLite the two statements of every receipt run prepared on the writing connection, as the ledger's
 * do (storage/repositories/ledger.ts): a Kysely query is built, compiled and prepared anew each time.
 * They are used only inside a unit of work, where the group commit holds the writer in its transaction.
 */
function sqliteHotPath(database: ModuleDatabase<AtTables>) {
  const writer = database.sqlite?.writer
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

export function atStore(database: ModuleDatabase<AtTables>): AtStore {
  const hot = sqliteHotPath(database)
  return {
    async insertCashbox(config, devices) {
      try {
        await database.transact(async (trx) => {
          await trx
            .insertInto('at_cashboxes')
            .values({
              queue_id: config.queueId,
              account_id: accountOf(config.queueId),
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
          const holder = await kassenIdHolder(database.db, config)
          if (holder !== undefined && holder !== config.queueId) {
            throw new FiscalError(
              ErrorCode.Conflict,
              `Kassen-ID ${JSON.stringify(config.kassenId)} is already used by another cash box of this account: every cash register needs a Kassen-ID of its own, registered with FinanzOnline`,
              { field: 'kassenId', reason: 'Kassen-IDs are unique across the cash boxes of an account' },
            )
          }
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
        await database.transact((trx) =>
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
      const result = await database.transact((trx) =>
        trx
          .updateTable('at_signature_devices')
          .set({ out_of_service_since: since })
          .where('queue_id', '=', queueId)
          .where('number', '=', number)
          .executeTakeFirst(),
      )
      return Number(result.numUpdatedRows) > 0
    },
    config: (queueId) => configOf(database.db, queueId),
    configIn: (unit, queueId) => configOf(database.transactionOf(unit), queueId),
    devices: (queueId) => devicesOf(database.db, queueId),
    certifiedDevices: () =>
      database.db
        .selectFrom('at_signature_devices')
        .selectAll()
        .where('certificate', 'is not', null)
        .orderBy('queue_id')
        .orderBy('number')
        .execute()
        .then((rows) => rows.map(toDevice)),
    async receipts(queueId, afterSeq, limit, range) {
      let query = database.db
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
      hot ? hot.devices(queueId) : devicesOf(database.transactionOf(unit), queueId),
    async insertReceiptIn(unit, r) {
      try {
        if (hot) {
          hot.insert(r)
          return
        }
        await database
          .transactionOf(unit)
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
