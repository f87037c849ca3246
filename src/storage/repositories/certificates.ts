import type { Selectable } from 'kysely'
import {
  CERTIFICATE_ID_FIELD,
  type CertificateStore,
  type CertificateVersion,
  type StoredCertificate,
} from '../../core/certificates/certificates.ts'
import { isUniqueViolation } from '../../markets/module.ts'
import type { Storage } from '../database.ts'
import { transactionOf } from './ledger.ts'
import type { CertificateTable, CertificateVersionTable } from '../schema.ts'

type Usages = Pick<CertificateVersion, 'keyUsage' | 'extendedKeyUsage' | 'uses'>

const versionRow = (v: CertificateVersion): CertificateVersionTable => ({
  id: v.id,
  certificate_id: v.certificateId,
  account_id: v.accountId,
  version: v.version,
  fingerprint: v.fingerprint,
  subject: v.subject,
  issuer: v.issuer,
  serial_number: v.serialNumber,
  not_before: v.notBefore,
  not_after: v.notAfter,
  usages: JSON.stringify({ keyUsage: v.keyUsage, extendedKeyUsage: v.extendedKeyUsage, uses: v.uses }),
  chain_pem: v.chainPem,
  private_key_encrypted: v.privateKeyEncrypted,
  created_at: v.createdAt,
})

const toCertificate = (
  row: Selectable<CertificateTable>,
  v: Selectable<CertificateVersionTable>,
): StoredCertificate => {
  const usages = JSON.parse(v.usages) as Usages
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    createdAt: row.created_at,
    active: {
      id: v.id,
      certificateId: v.certificate_id,
      accountId: v.account_id,
      version: Number(v.version),
      fingerprint: v.fingerprint,
      subject: v.subject,
      issuer: v.issuer,
      serialNumber: v.serial_number,
      notBefore: v.not_before,
      notAfter: v.not_after,
      keyUsage: usages.keyUsage,
      extendedKeyUsage: usages.extendedKeyUsage,
      uses: usages.uses,
      chainPem: v.chain_pem,
      privateKeyEncrypted: v.private_key_encrypted,
      createdAt: v.created_at,
    },
  }
}

/** Unique violations are answers here (an idempotent import, a lost race), not failures. */
async function unlessDuplicate(work: () => Promise<void>): Promise<boolean> {
  try {
    await work()
    return true
  } catch (error) {
    if (isUniqueViolation(error)) return false
    throw error
  }
}

export function certificateStore(storage: Storage): CertificateStore {
  const { db } = storage
  // Each certificate with its active version, in one query.
  const active = (executor: Pick<typeof db, 'selectFrom'> = db) =>
    executor
      .selectFrom('certificates as c')
      .innerJoin('certificate_versions as v', (join) =>
        join.onRef('v.certificate_id', '=', 'c.id').onRef('v.version', '=', 'c.active_version'),
      )
      .selectAll('v')
      .select(['c.name', 'c.active_version', 'c.created_at as certificate_created_at'])
  const fromJoined = (
    row: Selectable<CertificateVersionTable> & {
      name: string
      active_version: number
      certificate_created_at: string
    },
  ) =>
    toCertificate(
      {
        id: row.certificate_id,
        account_id: row.account_id,
        name: row.name,
        active_version: row.active_version,
        created_at: row.certificate_created_at,
      },
      row,
    )
  const findWith = async (executor: Pick<typeof db, 'selectFrom'>, accountId: string, id: string) => {
    const row = await active(executor)
      .where('c.id', '=', id)
      .where('c.account_id', '=', accountId)
      .executeTakeFirst()
    return row && fromJoined(row)
  }
  return {
    insert: (certificate, version) =>
      unlessDuplicate(() =>
        storage.transact(async (trx) => {
          await trx
            .insertInto('certificates')
            .values({
              id: certificate.id,
              account_id: certificate.accountId,
              name: certificate.name,
              active_version: version.version,
              created_at: certificate.createdAt,
            })
            .execute()
          await trx.insertInto('certificate_versions').values(versionRow(version)).execute()
        }),
      ),
    replace: async (version, expectedVersion) => {
      try {
        return await storage.transact(async (trx) => {
          // The compare-and-set first: on PostgreSQL it also locks the row against a concurrent replacement.
          const switched = await trx
            .updateTable('certificates')
            .set({ active_version: version.version })
            .where('id', '=', version.certificateId)
            .where('account_id', '=', version.accountId)
            .where('active_version', '=', expectedVersion)
            .executeTakeFirst()
          if (Number(switched.numUpdatedRows) !== 1) return false
          await trx.insertInto('certificate_versions').values(versionRow(version)).execute()
          return true
        })
      } catch (error) {
        if (isUniqueViolation(error)) return false
        throw error
      }
    },
    find: (accountId, id) => findWith(db, accountId, id),
    findIn: (unit, accountId, id) => findWith(transactionOf(unit), accountId, id),
    findByFingerprint: async (accountId, fingerprint) => {
      const holder = await db
        .selectFrom('certificate_versions')
        .select('certificate_id')
        .where('account_id', '=', accountId)
        .where('fingerprint', '=', fingerprint)
        .executeTakeFirst()
      if (!holder) return undefined
      const row = await active().where('c.id', '=', holder.certificate_id).executeTakeFirst()
      return row && fromJoined(row)
    },
    list: async (accountId) =>
      (
        await active().where('c.account_id', '=', accountId).orderBy('c.created_at').orderBy('c.id').execute()
      ).map(fromJoined),
    listAll: async () => (await active().orderBy('c.created_at').orderBy('c.id').execute()).map(fromJoined),
    remove: (accountId, id) =>
      storage.transact(async (trx) => {
        const removed = await trx
          .deleteFrom('certificates')
          .where('id', '=', id)
          .where('account_id', '=', accountId)
          .executeTakeFirst()
        await trx
          .deleteFrom('certificate_versions')
          .where('certificate_id', '=', id)
          .where('account_id', '=', accountId)
          .execute()
        return Number(removed.numDeletedRows) > 0
      }),
    usersOf: async (accountId) => {
      const rows = await db
        .selectFrom('locations')
        .select(['id', 'country_config'])
        .where('account_id', '=', accountId)
        .where('country_config', 'like', `%"${CERTIFICATE_ID_FIELD}"%`)
        .orderBy('id')
        .execute()
      const users = new Map<string, string[]>()
      for (const row of rows) {
        const id = (JSON.parse(row.country_config) as Record<string, unknown>)[CERTIFICATE_ID_FIELD]
        if (typeof id === 'string') users.set(id, [...(users.get(id) ?? []), row.id])
      }
      return users
    },
  }
}
