import type { Kysely } from 'kysely'

/**
 * A queue's reservation (JSON, core/ports.ts Reservation): the receipt whose external signing unit is being
 * called between its two transactions. It lives on the queue row so that the row lock that orders a queue's
 * receipts also guards it, on every node.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('queues').addColumn('reservation', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('queues').dropColumn('reservation').execute()
}
