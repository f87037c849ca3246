import type { Selectable } from 'kysely'
import type { ExportRun, ExportRunStore } from '../../core/dashboard/ports.ts'
import type { Storage } from '../database.ts'
import type { ExportRunTable } from '../schema.ts'

const toRun = (row: Selectable<ExportRunTable>): ExportRun => ({
  id: row.id,
  accountId: row.account_id,
  cashboxId: row.cashbox_id,
  cashboxLabel: row.cashbox_label,
  format: row.format,
  formatLabel: row.format_label,
  period: JSON.parse(row.period) as ExportRun['period'],
  status: row.status as ExportRun['status'],
  done: row.done,
  total: row.total,
  startedAt: row.started_at,
  heartbeatAt: row.heartbeat_at,
  finishedAt: row.finished_at,
  files: JSON.parse(row.files) as string[],
  bytes: row.bytes,
  error: row.error,
  verdict: row.verdict === null ? null : (JSON.parse(row.verdict) as ExportRun['verdict']),
})

export function exportRunRepository(storage: Storage): ExportRunStore {
  const { db } = storage
  return {
    insert: (run) =>
      storage.transact(async (trx) => {
        await trx
          .insertInto('export_runs')
          .values({
            id: run.id,
            account_id: run.accountId,
            cashbox_id: run.cashboxId,
            cashbox_label: run.cashboxLabel,
            format: run.format,
            format_label: run.formatLabel,
            period: JSON.stringify(run.period),
            status: run.status,
            done: run.done,
            total: run.total,
            started_at: run.startedAt,
            heartbeat_at: run.heartbeatAt,
            finished_at: run.finishedAt,
            files: JSON.stringify(run.files),
            bytes: run.bytes,
            error: run.error,
            verdict: run.verdict === null ? null : JSON.stringify(run.verdict),
          })
          .execute()
      }),
    update: (id, change) =>
      storage.transact(async (trx) => {
        await trx
          .updateTable('export_runs')
          .set({
            ...(change.status !== undefined ? { status: change.status } : {}),
            ...(change.done !== undefined ? { done: change.done } : {}),
            ...(change.total !== undefined ? { total: change.total } : {}),
            ...(change.heartbeatAt !== undefined ? { heartbeat_at: change.heartbeatAt } : {}),
            ...(change.finishedAt !== undefined ? { finished_at: change.finishedAt } : {}),
            ...(change.files !== undefined ? { files: JSON.stringify(change.files) } : {}),
            ...(change.bytes !== undefined ? { bytes: change.bytes } : {}),
            ...(change.error !== undefined ? { error: change.error } : {}),
            ...(change.verdict !== undefined
              ? { verdict: change.verdict === null ? null : JSON.stringify(change.verdict) }
              : {}),
          })
          .where('id', '=', id)
          .execute()
      }),
    find: (id) =>
      db
        .selectFrom('export_runs')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst()
        .then((row) => row && toRun(row)),
    list: (accountId, limit) =>
      db
        .selectFrom('export_runs')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('started_at', 'desc')
        .orderBy('id')
        .limit(limit)
        .execute()
        .then((rows) => rows.map(toRun)),
  }
}
