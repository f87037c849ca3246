import type { Storage } from '../database.ts'
import { readsOf } from './v1-reader.ts'

export interface ExportedRecord {
  sequence: number
  transactionId: string
  type: string
  status: string
  fiscalId: string | null
  record: string
  previousHash: string
  hash: string
  /** The sealed record's payload as answered (response_payload, or its `record` part for an authority). */
  payload: Record<string, unknown> | null
}

/** A location's sealed records of one environment in chain order, a page at a time. */
export function exportRepository(storage: Storage) {
  const db = readsOf(storage)
  return {
    async lastSequence(locationId: string, environment: string): Promise<number> {
      const row = await db
        .selectFrom('fiscal_chains')
        .select('last_sequence')
        .where('location_id', '=', locationId)
        .where('environment', '=', environment)
        .executeTakeFirst()
      return Number(row?.last_sequence ?? 0)
    },
    async records(
      locationId: string,
      environment: string,
      after: number,
      limit: number,
    ): Promise<ExportedRecord[]> {
      const rows = await db
        .selectFrom('fiscal_records as r')
        .innerJoin('transactions as t', 't.id', 'r.transaction_id')
        .select([
          'r.sequence',
          'r.transaction_id',
          't.type',
          't.status',
          't.fiscal_id',
          'r.record',
          'r.previous_hash',
          'r.hash',
          't.response_payload',
        ])
        .where('r.location_id', '=', locationId)
        .where('r.environment', '=', environment)
        .where('r.sequence', '>', after)
        .orderBy('r.sequence')
        .limit(limit)
        .execute()
      return rows.map((row) => {
        const response =
          row.response_payload === null ? null : (JSON.parse(row.response_payload) as Record<string, unknown>)
        const sealed =
          response && typeof response.record === 'object'
            ? (response.record as Record<string, unknown>)
            : response
        return {
          sequence: Number(row.sequence),
          transactionId: row.transaction_id,
          type: row.type,
          status: row.status,
          fiscalId: row.fiscal_id,
          record: row.record,
          previousHash: row.previous_hash,
          hash: row.hash,
          payload: sealed,
        }
      })
    },
  }
}
