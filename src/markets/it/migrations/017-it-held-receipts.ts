import type { Kysely } from 'kysely'

/**
 * Italy's failed mode: the receipts an IT cash box answered while its RT device could not be reached, with
 * the request each one is to print, until a zero receipt sends them (docs/country-it.md#failed-mode).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('it_held_receipts')
    .addColumn('queue_id', 'text', (c) => c.notNull().references('queues.id'))
    .addColumn('queue_row', 'bigint', (c) => c.notNull())
    .addColumn('receipt_number', 'bigint', (c) => c.notNull())
    .addColumn('receipt_reference', 'text', (c) => c.notNull())
    .addColumn('terminal_id', 'text')
    .addColumn('job', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('it_held_receipts_pk', ['queue_id', 'queue_row'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('it_held_receipts').execute()
}
