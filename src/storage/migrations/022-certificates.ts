import type { Kysely } from 'kysely'

/**
 * The accounts' certificates (core/certificates): one row per certificate, its versions apart. A
 * certificate is stored once per account (UNIQUE fingerprint), and a version number once per certificate,
 * so that two concurrent imports or replacements cannot both win.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('certificates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('active_version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('certificates_account').on('certificates').column('account_id').execute()
  await db.schema
    .createTable('certificate_versions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('certificate_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('serial_number', 'text', (c) => c.notNull())
    .addColumn('not_before', 'text', (c) => c.notNull())
    .addColumn('not_after', 'text', (c) => c.notNull())
    /** JSON: key usage, extended key usage and the uses fiscalbox derived from them */
    .addColumn('usages', 'text', (c) => c.notNull())
    .addColumn('chain_pem', 'text', (c) => c.notNull())
    .addColumn('private_key_encrypted', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('certificate_versions_number', ['certificate_id', 'version'])
    .addUniqueConstraint('certificate_versions_fingerprint', ['account_id', 'fingerprint'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('certificate_versions').execute()
  await db.schema.dropTable('certificates').execute()
}
