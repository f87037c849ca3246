import type { Kysely } from 'kysely'

/**
 * France: a cash box's establishment (SIRET, name), and every signed entry of every chain of a queue (tickets, invoices, ..., the technical event journal),
 * the source of the archives. Keyed by queue id without a foreign key: a /v1 location's queue lives elsewhere.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('fr_cashboxes')
    .addColumn('cashbox_id', 'text', (c) => c.primaryKey())
    .addColumn('siret', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('fr_entries')
    .addColumn('queue_id', 'text', (c) => c.notNull())
    .addColumn('chain', 'text', (c) => c.notNull())
    .addColumn('n', 'bigint', (c) => c.notNull())
    .addColumn('queue_row', 'bigint', (c) => c.notNull())
    .addColumn('moment', 'text', (c) => c.notNull())
    /** The day in Paris (yyyy-MM-dd) the entry was signed: archives cover calendar periods of France. */
    .addColumn('local_day', 'text', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull())
    /** Duplicates only: the reference of the receipt they reprint. */
    .addColumn('copied_reference', 'text')
    .addColumn('jws', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('fr_entries_pk', ['queue_id', 'chain', 'n'])
    .execute()
  await db.schema
    .createIndex('fr_entries_queue_day')
    .on('fr_entries')
    .columns(['queue_id', 'local_day'])
    .execute()
  await db.schema
    .createIndex('fr_entries_queue_reference')
    .on('fr_entries')
    .columns(['queue_id', 'reference'])
    .execute()
  await db.schema
    .createIndex('fr_entries_queue_copied')
    .on('fr_entries')
    .columns(['queue_id', 'copied_reference'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('fr_entries').execute()
  await db.schema.dropTable('fr_cashboxes').execute()
}
