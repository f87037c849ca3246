import type { Kysely } from 'kysely'

/** Germany: the software TSS (BSI TR-03151), its log messages, and the SIGN DE v2 API's credentials and exports. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('de_api_credentials')
    .addColumn('api_key', 'text', (c) => c.primaryKey())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('env', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('de_api_refresh_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('api_key', 'text', (c) => c.notNull().references('de_api_credentials.api_key'))
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute()
  // Installation-wide secrets (certificate authorities, the token signing key), sealed by the master key.
  await db.schema
    .createTable('de_secrets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('public_part', 'text', (c) => c.notNull())
    .addColumn('sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('de_tss')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('env', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('serial_number', 'text', (c) => c.notNull())
    .addColumn('private_key_encrypted', 'text', (c) => c.notNull())
    .addColumn('certificate', 'text', (c) => c.notNull())
    .addColumn('admin_puk_hash', 'text', (c) => c.notNull())
    .addColumn('admin_puk_encrypted', 'text')
    .addColumn('admin_pin_hash', 'text')
    .addColumn('admin_pin_failures', 'integer', (c) => c.notNull())
    .addColumn('admin_session_until', 'bigint')
    .addColumn('signature_counter', 'bigint', (c) => c.notNull())
    .addColumn('transaction_counter', 'bigint', (c) => c.notNull())
    .addColumn('number_registered_clients', 'integer', (c) => c.notNull())
    .addColumn('number_active_transactions', 'integer', (c) => c.notNull())
    .addColumn('last_log_time', 'bigint', (c) => c.notNull())
    .addColumn('time_creation', 'bigint', (c) => c.notNull())
    .addColumn('time_uninit', 'bigint')
    .addColumn('time_init', 'bigint')
    .addColumn('time_disable', 'bigint')
    .execute()
  await db.schema
    .createIndex('de_tss_organization')
    .on('de_tss')
    .columns(['organization_id', 'time_creation'])
    .execute()
  await db.schema
    .createTable('de_tss_clients')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tss_id', 'text', (c) => c.notNull().references('de_tss.id'))
    .addColumn('serial_number', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('time_creation', 'bigint', (c) => c.notNull())
    .addColumn('time_update', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('de_tss_clients_serial', ['tss_id', 'serial_number'])
    .execute()
  await db.schema
    .createTable('de_tss_transactions')
    .addColumn('tss_id', 'text', (c) => c.notNull().references('de_tss.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('number', 'bigint', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('latest_revision', 'integer', (c) => c.notNull())
    .addColumn('schema_kind', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('time_start', 'bigint', (c) => c.notNull())
    .addColumn('time_end', 'bigint')
    .addPrimaryKeyConstraint('de_tss_transactions_pk', ['tss_id', 'id'])
    .addUniqueConstraint('de_tss_transactions_number', ['tss_id', 'number'])
    .execute()
  await db.schema
    .createIndex('de_tss_transactions_client')
    .on('de_tss_transactions')
    .columns(['client_id', 'number'])
    .execute()
  // One row per revision: the answer as given (replayed for an idempotent retry and ?tx_revision=N).
  await db.schema
    .createTable('de_tss_tx_revisions')
    .addColumn('tss_id', 'text', (c) => c.notNull())
    .addColumn('tx_id', 'text', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('de_tss_tx_revisions_pk', ['tss_id', 'tx_id', 'revision'])
    .execute()
  // Every TR-03151 log message, DER in base64, in signature counter order: what exports stream.
  await db.schema
    .createTable('de_tss_logs')
    .addColumn('tss_id', 'text', (c) => c.notNull())
    .addColumn('signature_counter', 'bigint', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('log_time', 'bigint', (c) => c.notNull())
    .addColumn('transaction_number', 'bigint')
    .addColumn('client_serial', 'text')
    .addColumn('message', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('de_tss_logs_pk', ['tss_id', 'signature_counter'])
    .execute()
  await db.schema
    .createTable('de_tss_exports')
    .addColumn('tss_id', 'text', (c) => c.notNull().references('de_tss.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('filters', 'text', (c) => c.notNull())
    .addColumn('exception', 'text')
    .addColumn('upto_signature_counter', 'bigint')
    .addColumn('record_count', 'bigint')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('time_request', 'bigint', (c) => c.notNull())
    .addColumn('time_start', 'bigint')
    .addColumn('time_end', 'bigint')
    .addColumn('time_expiration', 'bigint')
    .addPrimaryKeyConstraint('de_tss_exports_pk', ['tss_id', 'id'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'de_tss_exports',
    'de_tss_logs',
    'de_tss_tx_revisions',
    'de_tss_transactions',
    'de_tss_clients',
    'de_tss',
    'de_secrets',
    'de_api_refresh_tokens',
    'de_api_credentials',
  ]) {
    await db.schema.dropTable(table).execute()
  }
}
