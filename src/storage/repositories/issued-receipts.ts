import type { Selectable } from 'kysely'
import type { IssuedReceipt, IssuedReceiptStore } from '../../receipts/issue-service.ts'
import type { Storage } from '../database.ts'
import type { IssuedReceiptTable } from '../schema.ts'

const toIssued = (row: Selectable<IssuedReceiptTable>): IssuedReceipt => ({
  id: row.id,
  cashboxId: row.cashbox_id,
  queueId: row.queue_id,
  queueItemId: row.queue_item_id,
  createdAt: row.created_at,
  deliveredAt: row.delivered_at,
  deliveredBy: row.delivered_by,
})

export function issuedReceiptRepository(storage: Storage): IssuedReceiptStore {
  const { db } = storage
  const byQueueItem = (queueId: string, queueItemId: string) =>
    db
      .selectFrom('issued_receipts')
      .selectAll()
      .where('queue_item_id', '=', queueItemId)
      .where('queue_id', '=', queueId)
      .executeTakeFirst()
      .then((row) => (row ? toIssued(row) : undefined))
  const byId = (id: string) =>
    db
      .selectFrom('issued_receipts')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst()
      .then((row) => (row ? toIssued(row) : undefined))

  return {
    storedReceipt: (queueId, queueItemId) =>
      db
        .selectFrom('queue_items as i')
        .leftJoin('receipt_journal as j', 'j.queue_item_id', 'i.id')
        .select([
          'i.id',
          'i.row',
          'i.request',
          'i.request_hash',
          'i.response',
          'i.response_hash',
          'j.response_hash as journal_response_hash',
        ])
        .where('i.id', '=', queueItemId)
        .where('i.queue_id', '=', queueId)
        .executeTakeFirst()
        .then((row) =>
          row
            ? {
                queueItemId: row.id,
                queueRow: row.row,
                request: row.request,
                requestHash: row.request_hash,
                response: row.response,
                responseHash: row.response_hash,
                journalResponseHash: row.journal_response_hash ?? undefined,
              }
            : undefined,
        ),

    issue: async (receipt) => {
      await storage.transact((trx) =>
        trx
          .insertInto('issued_receipts')
          .values({
            id: receipt.id,
            cashbox_id: receipt.cashboxId,
            queue_id: receipt.queueId,
            queue_item_id: receipt.queueItemId,
            created_at: receipt.createdAt,
            delivered_at: null,
            delivered_by: null,
          })
          .onConflict((c) => c.column('queue_item_id').doNothing())
          .execute(),
      )
      const stored = await byQueueItem(receipt.queueId, receipt.queueItemId)
      if (!stored) throw new Error(`issued receipt of ${receipt.queueItemId} vanished`)
      return stored
    },

    byQueueItem,
    byId,

    markDelivered: async (id, at, by) => {
      await storage.transact((trx) =>
        trx
          .updateTable('issued_receipts')
          .set({ delivered_at: at, delivered_by: by })
          .where('id', '=', id)
          .where('delivered_at', 'is', null)
          .execute(),
      )
      const stored = await byId(id)
      if (!stored) throw new Error(`issued receipt ${id} vanished`)
      return stored
    },
  }
}
