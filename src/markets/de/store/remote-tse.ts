import type { Selectable } from 'kysely'
import type { ModuleDatabase } from '../../module.ts'
import type { RemoteTseRecord, RemoteTseStore } from '../remote/ports.ts'
import type { DeRemoteTseTable, DeTables } from './tables.ts'

const toRemote = (row: Selectable<DeRemoteTseTable>): RemoteTseRecord => ({
  queueId: row.queue_id,
  baseUrl: row.base_url,
  apiKey: row.api_key,
  apiSecretSealed: row.api_secret_sealed,
  adminPinSealed: row.admin_pin_sealed,
  tssId: row.tss_id,
  clientId: row.client_id,
  clientSerial: row.client_serial,
  tssSerial: row.tss_serial,
  publicKey: row.public_key,
  algorithm: row.algorithm,
  certificate: row.certificate,
  timeoutMs: Number(row.timeout_ms),
  updatedAt: row.updated_at,
})

export function deRemoteTseStore(database: ModuleDatabase<DeTables>): RemoteTseStore {
  const db = database.db
  const select = (queueId: string) =>
    db.selectFrom('de_remote_tse').selectAll().where('queue_id', '=', queueId)
  return {
    async remoteIn(unit, queueId) {
      const row = await database
        .transactionOf(unit)
        .selectFrom('de_remote_tse')
        .selectAll()
        .where('queue_id', '=', queueId)
        .executeTakeFirst()
      return row ? toRemote(row) : undefined
    },
    async remote(queueId) {
      const row = await select(queueId).executeTakeFirst()
      return row ? toRemote(row) : undefined
    },
    async saveRemote(r) {
      const changes = {
        base_url: r.baseUrl,
        api_key: r.apiKey,
        api_secret_sealed: r.apiSecretSealed,
        admin_pin_sealed: r.adminPinSealed,
        tss_id: r.tssId,
        client_id: r.clientId,
        client_serial: r.clientSerial,
        tss_serial: r.tssSerial,
        public_key: r.publicKey,
        algorithm: r.algorithm,
        certificate: r.certificate,
        timeout_ms: r.timeoutMs,
        updated_at: r.updatedAt,
      }
      await database.transact((trx) =>
        trx
          .insertInto('de_remote_tse')
          .values({ queue_id: r.queueId, ...changes })
          .onConflict((c) => c.column('queue_id').doUpdateSet(changes))
          .execute(),
      )
    },
    async tssCertificates() {
      const rows = await db
        .selectFrom('de_remote_tse')
        .select(['queue_id', 'tss_serial', 'certificate'])
        .orderBy('queue_id')
        .execute()
      return rows.map((row) => ({
        queueId: row.queue_id,
        tssSerial: row.tss_serial,
        certificate: row.certificate,
      }))
    },
    async insertExport(r, tar) {
      await database.transact((trx) =>
        trx
          .insertInto('de_remote_exports')
          .values({
            queue_id: r.queueId,
            export_id: r.exportId,
            tss_id: r.tssId,
            pulled_at: r.pulledAt,
            bytes: r.bytes,
            tar: tar.toString('base64'),
          })
          .execute(),
      )
    },
    async exports(queueId) {
      const rows = await db
        .selectFrom('de_remote_exports')
        .select(['queue_id', 'export_id', 'tss_id', 'pulled_at', 'bytes'])
        .where('queue_id', '=', queueId)
        .orderBy('pulled_at')
        .execute()
      return rows.map((row) => ({
        queueId: row.queue_id,
        exportId: row.export_id,
        tssId: row.tss_id,
        pulledAt: row.pulled_at,
        bytes: Number(row.bytes),
      }))
    },
    async exportTar(queueId, exportId) {
      const row = await db
        .selectFrom('de_remote_exports')
        .select('tar')
        .where('queue_id', '=', queueId)
        .where('export_id', '=', exportId)
        .executeTakeFirst()
      return row ? Buffer.from(row.tar, 'base64') : undefined
    },
  }
}
