import type { Kysely } from 'kysely'

/**
 * Italy on /v2/sign: each IT cash box's RT device configuration, and every documento commerciale its
 * receipts made on the device with the numbers the device gave it (refunds and voids name them).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('it_cashboxes')
    .addColumn('queue_id', 'text', (c) => c.primaryKey().references('queues.id'))
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('it_documents')
    .addColumn('queue_id', 'text', (c) => c.notNull().references('queues.id'))
    .addColumn('queue_row', 'bigint', (c) => c.notNull())
    .addColumn('receipt_reference', 'text', (c) => c.notNull())
    .addColumn('terminal_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('serial', 'text', (c) => c.notNull())
    .addColumn('z_number', 'integer', (c) => c.notNull())
    .addColumn('doc_number', 'integer', (c) => c.notNull())
    .addColumn('device_moment', 'text', (c) => c.notNull())
    .addColumn('total', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('it_documents_pk', ['queue_id', 'queue_row'])
    // The device numbers each document once: the same numbers twice would be one print recorded twice.
    .addUniqueConstraint('it_documents_number', ['queue_id', 'serial', 'z_number', 'doc_number'])
    .execute()
  await db.schema
    .createIndex('it_documents_reference')
    .on('it_documents')
    .columns(['queue_id', 'receipt_reference'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['it_documents', 'it_cashboxes']) await db.schema.dropTable(table).execute()
}
