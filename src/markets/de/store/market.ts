import type { Kysely, Selectable } from 'kysely'
import type { UnitOfWork } from '../../../core/ports.ts'
import type { ModuleDatabase } from '../../module.ts'
import type { DeCashboxRecord, DeReceiptRecord, DeStore } from '../market/ports.ts'
import type { DeCashboxTable, DeReceiptTable, DeTables } from './tables.ts'

const toCashbox = (row: Selectable<DeCashboxTable>): DeCashboxRecord => ({
  queueId: row.queue_id,
  organizationId: row.organization_id,
  tssId: row.tss_id,
  clientId: row.client_id,
  clientSerial: row.client_serial,
  tssOutOfServiceSince: row.tss_out_of_service_since,
  createdAt: row.created_at,
})

const toReceipt = (row: Selectable<DeReceiptTable>): DeReceiptRecord => ({
  queueId: row.queue_id,
  receiptNumber: Number(row.receipt_number),
  zNr: Number(row.z_nr),
  kind: row.kind as DeReceiptRecord['kind'],
  moment: row.moment,
  data: row.data,
})

const cashboxOf = (db: Kysely<DeTables>, queueId: string) =>
  db
    .selectFrom('de_cashboxes')
    .selectAll()
    .where('queue_id', '=', queueId)
    .executeTakeFirst()
    .then((row) => (row ? toCashbox(row) : undefined))

/**
 * On SQLite the two per-receipt statements run prepared on the writing connection (as the ledger's do):
 * only inside a unit of work, where the group commit holds the writer in its transaction.
 */
function sqliteHotPath(database: ModuleDatabase<DeTables>) {
  const writer = database.sqlite?.writer
  if (!writer) return undefined
  const cashbox = writer.prepare<[string], Selectable<DeCashboxTable>>(
    'select * from de_cashboxes where queue_id = ?',
  )
  const insert = writer.prepare(
    'insert into de_receipts (queue_id, receipt_number, z_nr, kind, moment, data) values (?, ?, ?, ?, ?, ?)',
  )
  return {
    cashbox: (queueId: string) => {
      const row = cashbox.get(queueId)
      return row ? toCashbox(row) : undefined
    },
    insert: (r: DeReceiptRecord) => {
      insert.run(r.queueId, r.receiptNumber, r.zNr, r.kind, r.moment, r.data)
    },
  }
}

export function deMarketStore(database: ModuleDatabase<DeTables>): DeStore {
  const db = database.db
  let hot: ReturnType<typeof sqliteHotPath> | undefined | null = null
  const hotPath = () => {
    if (hot === null) hot = sqliteHotPath(database)
    return hot
  }
  return {
    async cashboxIn(unit: UnitOfWork, queueId: string) {
      const fast = hotPath()
      return fast ? fast.cashbox(queueId) : cashboxOf(database.transactionOf(unit), queueId)
    },
    async insertCashboxIn(unit: UnitOfWork, c: DeCashboxRecord) {
      await database
        .transactionOf(unit)
        .insertInto('de_cashboxes')
        .values({
          queue_id: c.queueId,
          organization_id: c.organizationId,
          tss_id: c.tssId,
          client_id: c.clientId,
          client_serial: c.clientSerial,
          tss_out_of_service_since: c.tssOutOfServiceSince,
          created_at: c.createdAt,
        })
        .execute()
    },
    async insertReceiptIn(unit: UnitOfWork, r: DeReceiptRecord) {
      const fast = hotPath()
      if (fast) return fast.insert(r)
      await database
        .transactionOf(unit)
        .insertInto('de_receipts')
        .values({
          queue_id: r.queueId,
          receipt_number: r.receiptNumber,
          z_nr: r.zNr,
          kind: r.kind,
          moment: r.moment,
          data: r.data,
        })
        .execute()
    },
    cashbox: (queueId) => cashboxOf(db, queueId),
    async setOutOfService(queueId, since) {
      const result = await db
        .updateTable('de_cashboxes')
        .set({ tss_out_of_service_since: since })
        .where('queue_id', '=', queueId)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },
    async receiptsOfClosings(queueId, fromZ, toZ) {
      const rows = await db
        .selectFrom('de_receipts')
        .selectAll()
        .where('queue_id', '=', queueId)
        .where('z_nr', '>=', fromZ)
        .where('z_nr', '<=', toZ)
        .orderBy('receipt_number')
        .execute()
      return rows.map(toReceipt)
    },
    async closings(queueId) {
      const rows = await db
        .selectFrom('de_receipts')
        .selectAll()
        .where('queue_id', '=', queueId)
        .where('kind', '=', 'closing')
        .orderBy('receipt_number')
        .execute()
      return rows.map(toReceipt)
    },
  }
}
