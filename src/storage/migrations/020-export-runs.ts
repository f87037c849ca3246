import type { Kysely } from 'kysely'

/**
 * Exports started from the dashboard (api/dashboard/export-runs.ts): in the database so that every node
 * and a restarted one lists them; the files are in the exports folder.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('export_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('cashbox_id', 'text', (c) => c.notNull())
    .addColumn('cashbox_label', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('format_label', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('done', 'bigint', (c) => c.notNull())
    .addColumn('total', 'bigint')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('heartbeat_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('files', 'text', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('verdict', 'text')
    .execute()
  await db.schema
    .createIndex('export_runs_account_started')
    .on('export_runs')
    .columns(['account_id', 'started_at'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('export_runs').execute()
}
