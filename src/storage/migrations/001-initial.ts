import type { Kysely } from 'kysely'

// Migrations take Kysely<unknown> on purpose: they must not depend on the current schema types.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('cashboxes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('access_token_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('queues')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('cashbox_id', 'text', (c) => c.notNull().unique().references('cashboxes.id'))
    .addColumn('country_code', 'integer', (c) => c.notNull())
    .addColumn('current_row', 'bigint', (c) => c.notNull())
    .addColumn('receipt_numerator', 'bigint', (c) => c.notNull())
    .addColumn('action_numerator', 'bigint', (c) => c.notNull())
    .addColumn('last_receipt_hash', 'text', (c) => c.notNull())
    .addColumn('start_moment', 'text')
    .addColumn('stop_moment', 'text')
    .addColumn('totalizers', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('signing_keys')
    .addColumn('queue_id', 'text', (c) => c.primaryKey().references('queues.id'))
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('private_key_encrypted', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('queue_items')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('queue_id', 'text', (c) => c.notNull().references('queues.id'))
    .addColumn('row', 'bigint', (c) => c.notNull())
    .addColumn('operation_id', 'text', (c) => c.notNull())
    .addColumn('cb_receipt_reference', 'text', (c) => c.notNull())
    .addColumn('cb_terminal_id', 'text')
    .addColumn('ft_receipt_case', 'text', (c) => c.notNull())
    .addColumn('cb_receipt_moment', 'text', (c) => c.notNull())
    .addColumn('ft_moment', 'text', (c) => c.notNull())
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('response_hash', 'text', (c) => c.notNull())
    .addColumn('ft_state', 'text', (c) => c.notNull())
    .addUniqueConstraint('queue_items_queue_row', ['queue_id', 'row'])
    .execute()
  await db.schema
    .createTable('receipt_journal')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('queue_id', 'text', (c) => c.notNull().references('queues.id'))
    .addColumn('number', 'bigint', (c) => c.notNull())
    .addColumn('queue_item_id', 'text', (c) => c.notNull().unique().references('queue_items.id'))
    .addColumn('queue_row', 'bigint', (c) => c.notNull())
    .addColumn('moment', 'text', (c) => c.notNull())
    .addColumn('receipt_case', 'text', (c) => c.notNull())
    .addColumn('total', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('response_hash', 'text', (c) => c.notNull())
    .addColumn('previous_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addUniqueConstraint('receipt_journal_queue_number', ['queue_id', 'number'])
    .execute()
  await db.schema
    .createTable('action_journal')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('queue_id', 'text', (c) => c.notNull().references('queues.id'))
    .addColumn('number', 'bigint', (c) => c.notNull())
    .addColumn('queue_item_id', 'text')
    .addColumn('moment', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addUniqueConstraint('action_journal_queue_number', ['queue_id', 'number'])
    .execute()
  await db.schema
    .createTable('operations')
    .addColumn('cashbox_id', 'text', (c) => c.notNull().references('cashboxes.id'))
    .addColumn('operation_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('queue_item_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('operations_pk', ['cashbox_id', 'operation_id'])
    .execute()
  // Journal reads by time range (JournalRequest From/To) must not scan a queue's whole history.
  for (const [table, column] of [
    ['queue_items', 'ft_moment'],
    ['receipt_journal', 'moment'],
    ['action_journal', 'moment'],
  ] as const) {
    await db.schema.createIndex(`${table}_queue_${column}`).on(table).columns(['queue_id', column]).execute()
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'operations',
    'action_journal',
    'receipt_journal',
    'queue_items',
    'signing_keys',
    'queues',
    'cashboxes',
    'accounts',
    'meta',
  ]) {
    await db.schema.dropTable(table).execute()
  }
}
