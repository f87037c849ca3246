import type { Kysely, Selectable, Transaction } from 'kysely'
import type { PayAction, PaymentState } from '../../core/payments/payment.ts'
import type { PaymentRecord, PaymentStore, ReversalRule } from '../../core/payments/ports.ts'
import type { Storage } from '../database.ts'
import type { Database, PaymentTable } from '../schema.ts'

const toRecord = (row: Selectable<PaymentTable>): PaymentRecord => ({
  id: row.id,
  cashboxId: row.cashbox_id,
  operationId: row.operation_id,
  queueId: row.queue_id,
  action: row.action as PayAction,
  protocol: row.protocol,
  terminalId: row.terminal_id,
  amount: row.amount,
  currency: row.currency,
  payItemCase: row.pay_item_case,
  request: row.request,
  requestHash: row.request_hash,
  state: row.state as PaymentState,
  originalId: row.original_id,
  transactionId: row.transaction_id,
  reversed: row.reversed,
  answer: row.answer,
  lastError: row.last_error,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
})

/** Another transaction changed the original between read and write: the whole unit is run again. */
class ConcurrentReversal extends Error {}
const ATTEMPTS = 20

const byId = (db: Kysely<Database>, id: string) =>
  db
    .selectFrom('payments')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst()
    .then((row) => (row ? toRecord(row) : undefined))

/**
 * Applies a reversal rule to the original payment as a compare-and-set on (reversed, state): on PostgreSQL
 * a concurrent reversal of the same payment makes it update nothing, and the unit is retried.
 */
async function applyReversal(
  trx: Transaction<Database>,
  reversal: { originalId: string; rule: ReversalRule },
  at: string,
): Promise<void> {
  const original = await byId(trx, reversal.originalId)
  if (!original) throw new Error(`payment ${reversal.originalId} vanished`)
  const next = reversal.rule(original)
  const result = await trx
    .updateTable('payments')
    .set({ reversed: next.reversed, state: next.state, updated_at: at })
    .where('id', '=', original.id)
    .where('reversed', '=', original.reversed)
    .where('state', '=', original.state)
    .executeTakeFirst()
  if (result.numUpdatedRows === 0n) throw new ConcurrentReversal()
}

async function retrying<T>(storage: Storage, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await storage.transact(work)
    } catch (error) {
      if (!(error instanceof ConcurrentReversal) || attempt >= ATTEMPTS) throw error
    }
  }
}

export function paymentRepository(storage: Storage): PaymentStore {
  const { db } = storage
  return {
    find: (cashboxId, operationId) =>
      db
        .selectFrom('payments')
        .selectAll()
        .where('cashbox_id', '=', cashboxId)
        .where('operation_id', '=', operationId)
        .executeTakeFirst()
        .then((row) => (row ? toRecord(row) : undefined)),

    byId: (id) => byId(db, id),

    findByTransaction: (cashboxId, transactionId) =>
      db
        .selectFrom('payments')
        .selectAll()
        .where('cashbox_id', '=', cashboxId)
        .where('transaction_id', '=', transactionId)
        .executeTakeFirst()
        .then((row) => (row ? toRecord(row) : undefined)),

    create: (record, reversal) =>
      retrying(storage, async (trx) => {
        await trx
          .insertInto('payments')
          .values({
            id: record.id,
            cashbox_id: record.cashboxId,
            operation_id: record.operationId,
            queue_id: record.queueId,
            action: record.action,
            protocol: record.protocol,
            terminal_id: record.terminalId,
            amount: record.amount,
            currency: record.currency,
            pay_item_case: record.payItemCase,
            request: record.request,
            request_hash: record.requestHash,
            state: record.state,
            original_id: record.originalId,
            transaction_id: record.transactionId,
            reversed: record.reversed,
            answer: record.answer,
            last_error: record.lastError,
            created_at: record.createdAt,
            updated_at: record.updatedAt,
          })
          .onConflict((c) => c.columns(['cashbox_id', 'operation_id']).doNothing())
          .execute()
        const stored = await trx
          .selectFrom('payments')
          .selectAll()
          .where('cashbox_id', '=', record.cashboxId)
          .where('operation_id', '=', record.operationId)
          .executeTakeFirstOrThrow()
        if (stored.id === record.id && reversal) await applyReversal(trx, reversal, record.createdAt)
        return toRecord(stored)
      }),

    markInProgress: async (id, at) => {
      await storage.transact((trx) =>
        trx
          .updateTable('payments')
          .set({ state: 'in_progress', updated_at: at })
          .where('id', '=', id)
          .where('state', '=', 'requested')
          .execute(),
      )
    },

    noteError: async (id, message, at) => {
      await storage.transact((trx) =>
        trx
          .updateTable('payments')
          .set({ last_error: message.slice(0, 1000), updated_at: at })
          .where('id', '=', id)
          .execute(),
      )
    },

    settle: (id, update, reversal) =>
      retrying(storage, async (trx) => {
        const result = await trx
          .updateTable('payments')
          .set({
            state: update.state,
            transaction_id: update.transactionId,
            answer: update.answer,
            updated_at: update.at,
          })
          .where('id', '=', id)
          .where('answer', 'is', null)
          .executeTakeFirst()
        if (result.numUpdatedRows > 0n && reversal) await applyReversal(trx, reversal, update.at)
        const stored = await byId(trx, id)
        if (!stored) throw new Error(`payment ${id} vanished`)
        return stored
      }),
  }
}
