import type { Kysely } from 'kysely'

/**
 * Germany on /v2/sign: each DE cash box's TSS and client (and whether the operator took the TSS out of
 * service), and every DE receipt with what DSFinV-K needs, keyed by the cash point closing it belongs to.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('de_cashboxes')
    .addColumn('queue_id', 'text', (c) => c.primaryKey().references('queues.id'))
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('tss_id', 'text', (c) => c.notNull().unique())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('client_serial', 'text', (c) => c.notNull())
    .addColumn('tss_out_of_service_since', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('de_receipts')
    .addColumn('queue_id', 'text', (c) => c.notNull().references('queues.id'))
    .addColumn('receipt_number', 'bigint', (c) => c.notNull())
    .addColumn('z_nr', 'bigint', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('moment', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('de_receipts_pk', ['queue_id', 'receipt_number'])
    .execute()
  await db.schema.createIndex('de_receipts_closing').on('de_receipts').columns(['queue_id', 'z_nr']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['de_receipts', 'de_cashboxes']) await db.schema.dropTable(table).execute()
}
