import type { Kysely } from 'kysely'

/**
 * jobs_batch_window holds only the jobs held for a window (Bizkaia's LROE batch): its queries all ask for a
 * window (`batch_window = ?`, `is not null`), and every other job, a VERI*FACTU record's among them, no
 * longer writes an entry into it on insert and moves it on each change of status (claim, end).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_batch_window').execute()
  await db.schema
    .createIndex('jobs_batch_window')
    .on('jobs')
    .columns(['account_id', 'batch_window', 'status'])
    .where('batch_window', 'is not', null)
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_batch_window').execute()
  await db.schema
    .createIndex('jobs_batch_window')
    .on('jobs')
    .columns(['account_id', 'batch_window', 'status'])
    .execute()
}
