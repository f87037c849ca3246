import type { Kysely } from 'kysely'

/**
 * A cash box's pending records below a seq (each submission asks, to take the earlier ones along) from the
 * index alone: on (queue_id, status) SQLite preferred the primary key's range, reading every record of the
 * cash box below the seq, document and all, on every submission (EXPLAIN QUERY PLAN). With seq in the index
 * both engines find the pending ones in chain order without touching the rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('es_records_status').execute()
  await db.schema
    .createIndex('es_records_status')
    .on('es_records')
    .columns(['queue_id', 'status', 'seq'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('es_records_status').execute()
  await db.schema.createIndex('es_records_status').on('es_records').columns(['queue_id', 'status']).execute()
}
