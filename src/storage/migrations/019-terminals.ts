import type { Kysely } from 'kysely'

/**
 * Terminals paired with a cash box (POST /v2/configuration). The primary key makes pairing idempotent: a
 * terminal that pairs again, or two calls that race, leave one row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('terminals')
    .addColumn('cashbox_id', 'text', (c) => c.notNull().references('cashboxes.id'))
    .addColumn('terminal_id', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('paired_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('terminals_pk', ['cashbox_id', 'terminal_id'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('terminals').execute()
}
