import type { Kysely, Selectable } from 'kysely'
import type { Count, ModuleDatabase } from '../module.ts'
import type { HeldReceipt, HeldState, ItCashboxConfig, ItDocument, ItDocumentKind, ItStore } from './ports.ts'

// Italy's tables (migration 014-it-market) and the ItStore on them.

/** Italy on /v2/sign: an IT cash box's RT device configuration (JSON, see markets/it/configuration.ts). */
export interface ItCashboxTable {
  queue_id: string
  config: string
  updated_at: string
}

/** A documento commerciale an IT cash box's device printed for a receipt, with the device's numbers. */
export interface ItDocumentTable {
  queue_id: string
  queue_row: Count
  receipt_reference: string
  terminal_id: string | null
  kind: string
  serial: string
  z_number: number
  doc_number: number
  device_moment: string
  total: string
}

/** Failed mode: a receipt answered while the device was unreachable, until a zero receipt sends it. */
export interface ItHeldReceiptTable {
  queue_id: string
  queue_row: Count
  receipt_number: Count
  receipt_reference: string
  terminal_id: string | null
  job: string
  state: string
  error: string | null
}

export interface ItTables {
  it_cashboxes: ItCashboxTable
  it_documents: ItDocumentTable
  it_held_receipts: ItHeldReceiptTable
}

const WAITING: HeldState[] = ['held', 'sent']

const toHeld = (row: Selectable<ItHeldReceiptTable>): HeldReceipt => ({
  queueId: row.queue_id,
  queueRow: Number(row.queue_row),
  receiptNumber: Number(row.receipt_number),
  receiptReference: row.receipt_reference,
  terminalId: row.terminal_id,
  job: row.job,
  state: row.state as HeldState,
  error: row.error,
})

const documentRow = (document: ItDocument) => ({
  queue_id: document.queueId,
  queue_row: document.queueRow,
  receipt_reference: document.receiptReference,
  terminal_id: document.terminalId,
  kind: document.kind,
  serial: document.serial,
  z_number: document.zNumber,
  doc_number: document.docNumber,
  device_moment: document.deviceMoment,
  total: document.total,
})

const toDocument = (row: Selectable<ItDocumentTable>): ItDocument => ({
  queueId: row.queue_id,
  queueRow: Number(row.queue_row),
  receiptReference: row.receipt_reference,
  terminalId: row.terminal_id,
  kind: row.kind as ItDocumentKind,
  serial: row.serial,
  zNumber: row.z_number,
  docNumber: row.doc_number,
  deviceMoment: row.device_moment,
  total: row.total,
})

function configFrom(row: { config: string } | undefined): ItCashboxConfig | undefined {
  if (!row) return undefined
  const config = JSON.parse(row.config) as ItCashboxConfig
  // Configurations stored before the failed mode existed have it off.
  return { ...config, failedMode: config.failedMode ?? false }
}

const configOf = (db: Kysely<ItTables>, queueId: string) =>
  db
    .selectFrom('it_cashboxes')
    .select('config')
    .where('queue_id', '=', queueId)
    .executeTakeFirst()
    .then(configFrom)

/**
 * On SQLite the statements of every receipt run prepared on the writing connection, as the ledger's do: a
 * Kysely query is compiled and prepared anew each time. Used only inside a unit of work.
 */
function sqliteHotPath(database: ModuleDatabase<ItTables>) {
  const writer = database.sqlite?.writer
  if (!writer) return undefined
  const config = writer.prepare<[string], { config: string }>(
    'select config from it_cashboxes where queue_id = ?',
  )
  const insertDocument = writer.prepare<ReturnType<typeof documentRow>>(
    'insert into it_documents (queue_id, queue_row, receipt_reference, terminal_id, kind, serial, z_number, doc_number, device_moment, total) values (@queue_id, @queue_row, @receipt_reference, @terminal_id, @kind, @serial, @z_number, @doc_number, @device_moment, @total)',
  )
  return {
    config: (queueId: string) => configFrom(config.get(queueId)),
    insertDocument: (document: ItDocument) => insertDocument.run(documentRow(document)),
  }
}

/** Italy on /v2/sign: cash box configurations and the documents their devices printed. */
export function itStore(database: ModuleDatabase<ItTables>): ItStore {
  const db = database.db
  const hot = sqliteHotPath(database)
  return {
    config: (queueId) => configOf(db, queueId),
    async saveConfig(queueId, config, at) {
      const text = JSON.stringify(config)
      // One statement decides: a cash box with documents keeps the configuration they were printed with.
      const result = await db
        .insertInto('it_cashboxes')
        .values({ queue_id: queueId, config: text, updated_at: at })
        .onConflict((oc) =>
          oc
            .column('queue_id')
            .doUpdateSet({ config: text, updated_at: at })
            .where((eb) =>
              eb.not(
                eb.exists(eb.selectFrom('it_documents').select('queue_row').where('queue_id', '=', queueId)),
              ),
            ),
        )
        .executeTakeFirst()
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0
    },
    async lastDocument(queueId) {
      const row = await db
        .selectFrom('it_documents')
        .selectAll()
        .where('queue_id', '=', queueId)
        .orderBy('z_number', 'desc')
        .orderBy('doc_number', 'desc')
        .limit(1)
        .executeTakeFirst()
      return row ? toDocument(row) : undefined
    },
    configIn: async (unit, queueId) =>
      hot ? hot.config(queueId) : configOf(database.transactionOf(unit), queueId),
    async saleOfReferenceIn(unit, queueId, receiptReference, terminalId) {
      const rows = await database
        .transactionOf(unit)
        .selectFrom('it_documents')
        .selectAll()
        .where('queue_id', '=', queueId)
        .where('receipt_reference', '=', receiptReference)
        .where('kind', '=', 'sale')
        .orderBy('queue_row', 'desc')
        .execute()
      const row = rows.find((r) => r.terminal_id === (terminalId ?? null)) ?? rows[0]
      return row ? toDocument(row) : undefined
    },
    async insertDocumentIn(unit, document) {
      if (hot) hot.insertDocument(document)
      else
        await database.transactionOf(unit).insertInto('it_documents').values(documentRow(document)).execute()
    },
    async holdIn(unit, held) {
      await database
        .transactionOf(unit)
        .insertInto('it_held_receipts')
        .values({
          queue_id: held.queueId,
          queue_row: held.queueRow,
          receipt_number: held.receiptNumber,
          receipt_reference: held.receiptReference,
          terminal_id: held.terminalId,
          job: held.job,
          state: held.state,
          error: held.error,
        })
        .execute()
    },
    async waitingCountIn(unit, queueId) {
      const row = await database
        .transactionOf(unit)
        .selectFrom('it_held_receipts')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('queue_id', '=', queueId)
        .where('state', 'in', WAITING)
        .executeTakeFirstOrThrow()
      return Number(row.count)
    },
    async waiting(queueId) {
      const rows = await db
        .selectFrom('it_held_receipts')
        .selectAll()
        .where('queue_id', '=', queueId)
        .where('state', 'in', WAITING)
        .orderBy('queue_row')
        .execute()
      return rows.map(toHeld)
    },
    async heldReceipts(queueId) {
      const held = await db
        .selectFrom('it_held_receipts')
        .selectAll()
        .where('queue_id', '=', queueId)
        .orderBy('queue_row')
        .execute()
      const printedRows = held.filter((row) => row.state === 'printed').map((row) => row.queue_row)
      const documents =
        printedRows.length === 0
          ? []
          : await db
              .selectFrom('it_documents')
              .selectAll()
              .where('queue_id', '=', queueId)
              .where('queue_row', 'in', printedRows)
              .execute()
      const byRow = new Map(documents.map((row) => [Number(row.queue_row), toDocument(row)]))
      return held.map((row) => {
        const document = byRow.get(Number(row.queue_row))
        return { ...toHeld(row), ...(document ? { document } : {}) }
      })
    },
    async markSent(queueId, queueRow) {
      await database.transact((trx) =>
        trx
          .updateTable('it_held_receipts')
          .set({ state: 'sent' })
          .where('queue_id', '=', queueId)
          .where('queue_row', '=', queueRow)
          .execute(),
      )
    },
    async settlePrinted(document) {
      // Both or neither: a held receipt is printed exactly when its document is recorded.
      await database.transact(async (trx) => {
        await trx.insertInto('it_documents').values(documentRow(document)).execute()
        await trx
          .updateTable('it_held_receipts')
          .set({ state: 'printed' })
          .where('queue_id', '=', document.queueId)
          .where('queue_row', '=', document.queueRow)
          .execute()
      })
    },
    async settleRefused(queueId, queueRow, error) {
      await database.transact((trx) =>
        trx
          .updateTable('it_held_receipts')
          .set({ state: 'refused', error })
          .where('queue_id', '=', queueId)
          .where('queue_row', '=', queueRow)
          .execute(),
      )
    },
  }
}
