import type { Kysely } from 'kysely'

/** Austria (RKSV): a cash box's Kassen-ID and AES key, its signature devices, and its signed receipts. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('at_cashboxes')
    .addColumn('queue_id', 'text', (c) => c.primaryKey().references('queues.id'))
    .addColumn('kassen_id', 'text', (c) => c.notNull())
    .addColumn('aes_key_encrypted', 'text', (c) => c.notNull())
    .addColumn('aes_key_check', 'text', (c) => c.notNull())
    .addColumn('counter_size', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('at_signature_devices')
    .addColumn('queue_id', 'text', (c) => c.notNull().references('queues.id'))
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('certificate_field', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('certificate', 'text')
    .addColumn('private_key_encrypted', 'text', (c) => c.notNull())
    .addColumn('out_of_service_since', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('at_signature_devices_pk', ['queue_id', 'number'])
    .addUniqueConstraint('at_signature_devices_field', ['queue_id', 'certificate_field'])
    .execute()
  await db.schema
    .createTable('at_receipts')
    .addColumn('queue_id', 'text', (c) => c.notNull().references('queues.id'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('receipt_id', 'text', (c) => c.notNull())
    .addColumn('queue_row', 'bigint', (c) => c.notNull())
    .addColumn('moment', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('device_number', 'integer', (c) => c.notNull())
    .addColumn('failed', 'integer', (c) => c.notNull())
    .addColumn('jws', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('at_receipts_pk', ['queue_id', 'seq'])
    // The Belegnummer is unique per cash box: a reused one is refused, never signed twice.
    .addUniqueConstraint('at_receipts_receipt_id', ['queue_id', 'receipt_id'])
    .execute()
  await db.schema
    .createIndex('at_receipts_queue_moment')
    .on('at_receipts')
    .columns(['queue_id', 'moment'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['at_receipts', 'at_signature_devices', 'at_cashboxes']) {
    await db.schema.dropTable(table).execute()
  }
}
