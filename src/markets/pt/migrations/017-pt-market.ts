import type { Kysely } from 'kysely'

/**
 * Portugal on /v2/sign: each cash box's configuration (issuer, certificate, sealed RSA key, registered
 * series), by cash box id; and every signed document by queue, with what SAF-T (PT) needs of it. No
 * foreign keys: the transactions API v1 uses the market with its own location and queue ids.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('pt_cashboxes')
    .addColumn('cashbox_id', 'text', (c) => c.primaryKey())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('pt_documents')
    .addColumn('queue_id', 'text', (c) => c.notNull())
    .addColumn('queue_row', 'bigint', (c) => c.notNull())
    .addColumn('receipt_reference', 'text', (c) => c.notNull())
    .addColumn('invoice_no', 'text', (c) => c.notNull())
    .addColumn('system_entry_date', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_date', 'text', (c) => c.notNull())
    .addColumn('document', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('pt_documents_pk', ['queue_id', 'queue_row'])
    // A number is issued once per series: a second document with it would break the chain.
    .addUniqueConstraint('pt_documents_invoice_no', ['queue_id', 'invoice_no'])
    .execute()
  await db.schema
    .createIndex('pt_documents_reference')
    .on('pt_documents')
    .columns(['queue_id', 'receipt_reference'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['pt_documents', 'pt_cashboxes']) await db.schema.dropTable(table).execute()
}
