import type { Kysely } from 'kysely'

/**
 * Spain on /v2/sign: each ES cash box's configuration (system, territory, issuer, series, environment),
 * and every Spanish record its receipts made (in chain order per cash box) with its submission status.
 * A record's submission job is a row of `jobs` written in the same commit as the record.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('es_cashboxes')
    .addColumn('queue_id', 'text', (c) => c.primaryKey().references('queues.id'))
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('es_records')
    .addColumn('queue_id', 'text', (c) => c.notNull().references('queues.id'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('queue_row', 'bigint', (c) => c.notNull())
    .addColumn('receipt_reference', 'text', (c) => c.notNull())
    .addColumn('invoice_number', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('invoice_type', 'text')
    .addColumn('document', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('authority', 'text')
    .addColumn('sent_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('es_records_pk', ['queue_id', 'seq'])
    // One invoice and at most one cancellation of it per number: a second one is refused by the database.
    .addUniqueConstraint('es_records_invoice', ['queue_id', 'invoice_number', 'kind'])
    .execute()
  await db.schema
    .createIndex('es_records_reference')
    .on('es_records')
    .columns(['queue_id', 'receipt_reference'])
    .execute()
  await db.schema.createIndex('es_records_status').on('es_records').columns(['queue_id', 'status']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['es_records', 'es_cashboxes']) await db.schema.dropTable(table).execute()
}
