import { type Kysely, sql } from 'kysely'

/**
 * A Kassen-ID names one registered cash register: unique across the cash boxes of an account (issue 15).
 * at_cashboxes gets the account of its queue's cash box, so that a UNIQUE index can hold it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('at_cashboxes').addColumn('account_id', 'text').execute()
  await sql`update at_cashboxes set account_id = (select c.account_id from queues q join cashboxes c on c.id = q.cashbox_id where q.id = at_cashboxes.queue_id)`.execute(
    db,
  )
  const shared = await sql<{ account_id: string; kassen_id: string }>`
    select account_id, kassen_id from at_cashboxes group by account_id, kassen_id having count(*) > 1`.execute(
    db,
  )
  if (shared.rows.length > 0) {
    const list = shared.rows.map((r) => `${r.kassen_id} (account ${r.account_id})`).join(', ')
    throw new Error(
      `cannot make Austrian Kassen-IDs unique per account: ${list} is used by several cash boxes. Each cash register needs its own Kassen-ID registered with FinanzOnline; take the duplicates out of service, then start fiscalbox again`,
    )
  }
  await db.schema
    .createIndex('at_cashboxes_account_kassen_id')
    .on('at_cashboxes')
    .columns(['account_id', 'kassen_id'])
    .unique()
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('at_cashboxes_account_kassen_id').execute()
  await db.schema.alterTable('at_cashboxes').dropColumn('account_id').execute()
}
