import type { Kysely } from 'kysely'

/**
 * Germany on a certified cloud TSE: per DE cash box the remote TSE it signs with (SIGN DE v2 API, its
 * credentials with the secret sealed by the master key, TSS and client), and the TAR exports pulled from it,
 * which the law asks to keep for ten years while TSE providers keep them for months.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('de_remote_tse')
    .addColumn('queue_id', 'text', (c) => c.primaryKey().references('queues.id'))
    .addColumn('base_url', 'text', (c) => c.notNull())
    .addColumn('api_key', 'text', (c) => c.notNull())
    .addColumn('api_secret_sealed', 'text', (c) => c.notNull())
    .addColumn('admin_pin_sealed', 'text')
    .addColumn('tss_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('client_serial', 'text', (c) => c.notNull())
    .addColumn('tss_serial', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('certificate', 'text', (c) => c.notNull())
    .addColumn('timeout_ms', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('de_remote_exports')
    .addColumn('queue_id', 'text', (c) => c.notNull().references('queues.id'))
    .addColumn('export_id', 'text', (c) => c.notNull())
    .addColumn('tss_id', 'text', (c) => c.notNull())
    .addColumn('pulled_at', 'text', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    // base64 of the TAR as the TSE gave it: kept byte for byte, readable on both engines
    .addColumn('tar', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('de_remote_exports_pk', ['queue_id', 'export_id'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['de_remote_exports', 'de_remote_tse']) await db.schema.dropTable(table).execute()
}
