import type { Kysely } from 'kysely'

/**
 * Submission jobs held for a batch window (Bizkaia's daily LROE batch): the window's name, so that an
 * account can run its held batch before the window (POST /v1/batches/{name}/run).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('batch_window', 'text').execute()
  await db.schema
    .createIndex('jobs_batch_window')
    .on('jobs')
    .columns(['account_id', 'batch_window', 'status'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_batch_window').execute()
  await db.schema.alterTable('jobs').dropColumn('batch_window').execute()
}
