import type { Kysely } from 'kysely'

/** /v2/pay operations with their state machine, and the receipts issued as public documents (/v2/issue). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('payments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('cashbox_id', 'text', (c) => c.notNull().references('cashboxes.id'))
    .addColumn('operation_id', 'text', (c) => c.notNull())
    .addColumn('queue_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('protocol', 'text', (c) => c.notNull())
    .addColumn('terminal_id', 'text')
    .addColumn('amount', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('pay_item_case', 'text', (c) => c.notNull())
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('original_id', 'text', (c) => c.references('payments.id'))
    .addColumn('transaction_id', 'text')
    .addColumn('reversed', 'text', (c) => c.notNull())
    .addColumn('answer', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    // One payment per operation id and cash box: the idempotency of /v2/pay.
    .addUniqueConstraint('payments_cashbox_operation', ['cashbox_id', 'operation_id'])
    .execute()
  await db.schema
    .createIndex('payments_cashbox_transaction')
    .on('payments')
    .columns(['cashbox_id', 'transaction_id'])
    .execute()
  await db.schema
    .createTable('issued_receipts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('cashbox_id', 'text', (c) => c.notNull().references('cashboxes.id'))
    .addColumn('queue_id', 'text', (c) => c.notNull())
    // One document per receipt: issuing it again returns the same link.
    .addColumn('queue_item_id', 'text', (c) => c.notNull().unique().references('queue_items.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('delivered_at', 'text')
    .addColumn('delivered_by', 'text')
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('issued_receipts').execute()
  await db.schema.dropTable('payments').execute()
}
