import type { Kysely, Selectable } from 'kysely'
import type { Count, ModuleDatabase } from '../module.ts'
import type { PtCashboxConfig, PtDocument, PtStore } from './ports.ts'

// Portugal's tables (migration 017-pt-market) and the PtStore on them.

export interface PtCashboxTable {
  cashbox_id: string
  config: string
  updated_at: string
}

/** A signed document; `document` is the PtDocument as JSON, the columns are what queries select on. */
export interface PtDocumentTable {
  queue_id: string
  queue_row: Count
  receipt_reference: string
  invoice_no: string
  system_entry_date: string
  status: string
  status_date: string
  document: string
}

export interface PtTables {
  pt_cashboxes: PtCashboxTable
  pt_documents: PtDocumentTable
}

const PAGE = 500

const toDocument = (row: Selectable<PtDocumentTable>): PtDocument => ({
  ...(JSON.parse(row.document) as PtDocument),
  status: row.status as PtDocument['status'],
  statusDate: row.status_date,
})

const configOf = (db: Kysely<PtTables>, cashboxId: string) =>
  db
    .selectFrom('pt_cashboxes')
    .select('config')
    .where('cashbox_id', '=', cashboxId)
    .executeTakeFirst()
    .then((row) => (row ? (JSON.parse(row.config) as PtCashboxConfig) : undefined))

/** Portugal on /v2/sign: cash box configurations and the documents their receipts made. */
export function ptStore(database: ModuleDatabase<PtTables>): PtStore {
  const db = database.db
  return {
    config: (cashboxId) => configOf(db, cashboxId),
    async signingKeys() {
      const rows = await db.selectFrom('pt_cashboxes').select(['cashbox_id', 'config']).execute()
      return rows.map((row) => {
        const { keyVersion, publicKey } = JSON.parse(row.config) as PtCashboxConfig
        return { cashboxId: row.cashbox_id, keyVersion, publicKey }
      })
    },
    async saveConfig(cashboxId, config, at) {
      const text = JSON.stringify(config)
      await db
        .insertInto('pt_cashboxes')
        .values({ cashbox_id: cashboxId, config: text, updated_at: at })
        .onConflict((oc) => oc.column('cashbox_id').doUpdateSet({ config: text, updated_at: at }))
        .execute()
    },
    configIn: (unit, cashboxId) => configOf(database.transactionOf(unit), cashboxId),
    async documentOfReferenceIn(unit, queueId, receiptReference) {
      const row = await database
        .transactionOf(unit)
        .selectFrom('pt_documents')
        .selectAll()
        .where('queue_id', '=', queueId)
        .where('receipt_reference', '=', receiptReference)
        .orderBy('queue_row', 'desc')
        .limit(1)
        .executeTakeFirst()
      return row ? toDocument(row) : undefined
    },
    async insertDocumentIn(unit, document) {
      await database
        .transactionOf(unit)
        .insertInto('pt_documents')
        .values({
          queue_id: document.queueId,
          queue_row: document.queueRow,
          receipt_reference: document.receiptReference,
          invoice_no: document.invoiceNo,
          system_entry_date: document.systemEntryDate,
          status: document.status,
          status_date: document.statusDate,
          document: JSON.stringify(document),
        })
        .execute()
    },
    async cancelIn(unit, queueId, invoiceNo, at) {
      await database
        .transactionOf(unit)
        .updateTable('pt_documents')
        .set({ status: 'A', status_date: at })
        .where('queue_id', '=', queueId)
        .where('invoice_no', '=', invoiceNo)
        .execute()
    },
    async *documents(queueId, range) {
      let after = -1
      for (;;) {
        let query = db
          .selectFrom('pt_documents')
          .selectAll()
          .where('queue_id', '=', queueId)
          .where('queue_row', '>', after)
        if (range.from) query = query.where('system_entry_date', '>=', range.from)
        if (range.to) query = query.where('system_entry_date', '<=', range.to)
        const rows = await query.orderBy('queue_row').limit(PAGE).execute()
        if (rows.length === 0) return
        yield rows.map(toDocument)
        after = Number(rows[rows.length - 1]?.queue_row)
        if (rows.length < PAGE) return
      }
    },
  }
}
