import type { Kysely, Selectable, Transaction } from 'kysely'
import type {
  ActionJournalRecord,
  Ledger,
  OperationRecord,
  QueueItemRecord,
  QueueState,
  QueueWork,
  ReceiptJournalRecord,
} from '../../core/ports.ts'
import type { Totalizers } from '../../core/totalizers.ts'
import type { Storage } from '../database.ts'
import type { Database, OperationTable } from '../schema.ts'

const toOperation = (row: Selectable<OperationTable>): OperationRecord => ({
  cashboxId: row.cashbox_id,
  operationId: row.operation_id,
  kind: row.kind,
  requestHash: row.request_hash,
  queueItemId: row.queue_item_id,
  createdAt: row.created_at,
})

function findOperation(db: Kysely<Database>, cashboxId: string, operationId: string) {
  return db
    .selectFrom('operations')
    .selectAll()
    .where('cashbox_id', '=', cashboxId)
    .where('operation_id', '=', operationId)
    .executeTakeFirst()
    .then((row) => (row ? toOperation(row) : undefined))
}

class TransactionWork implements QueueWork {
  constructor(
    private readonly trx: Transaction<Database>,
    private readonly lockRows: boolean,
  ) {}

  async lockQueue(queueId: string): Promise<QueueState> {
    const row = await this.trx
      .selectFrom('queues')
      .selectAll()
      .where('id', '=', queueId)
      // On PostgreSQL the row lock is the queue's serialization point across nodes; SQLite has one writer.
      .$if(this.lockRows, (q) => q.forUpdate())
      .executeTakeFirstOrThrow()
    return {
      id: row.id,
      cashboxId: row.cashbox_id,
      countryCode: row.country_code,
      currentRow: row.current_row,
      receiptNumerator: row.receipt_numerator,
      actionNumerator: row.action_numerator,
      lastReceiptHash: row.last_receipt_hash,
      startMoment: row.start_moment,
      stopMoment: row.stop_moment,
      totalizers: JSON.parse(row.totalizers) as Totalizers,
    }
  }

  findOperation(cashboxId: string, operationId: string) {
    return findOperation(this.trx, cashboxId, operationId)
  }

  async insertQueueItem(item: QueueItemRecord): Promise<void> {
    await this.trx
      .insertInto('queue_items')
      .values({
        id: item.id,
        queue_id: item.queueId,
        row: item.row,
        operation_id: item.operationId,
        cb_receipt_reference: item.cbReceiptReference,
        cb_terminal_id: item.cbTerminalId,
        ft_receipt_case: item.ftReceiptCase,
        cb_receipt_moment: item.cbReceiptMoment,
        ft_moment: item.ftMoment,
        request: item.request,
        request_hash: item.requestHash,
        response: item.response,
        response_hash: item.responseHash,
        ft_state: item.ftState,
      })
      .execute()
  }

  async insertReceiptJournal(entry: ReceiptJournalRecord): Promise<void> {
    await this.trx
      .insertInto('receipt_journal')
      .values({
        id: entry.id,
        queue_id: entry.queueId,
        number: entry.number,
        queue_item_id: entry.queueItemId,
        queue_row: entry.queueRow,
        moment: entry.moment,
        receipt_case: entry.receiptCase,
        total: entry.total,
        request_hash: entry.requestHash,
        response_hash: entry.responseHash,
        previous_hash: entry.previousHash,
        hash: entry.hash,
      })
      .execute()
  }

  async insertActionJournal(entry: ActionJournalRecord): Promise<void> {
    await this.trx
      .insertInto('action_journal')
      .values({
        id: entry.id,
        queue_id: entry.queueId,
        number: entry.number,
        queue_item_id: entry.queueItemId,
        moment: entry.moment,
        type: entry.type,
        message: entry.message,
        data: entry.data,
      })
      .execute()
  }

  async insertOperation(operation: OperationRecord): Promise<void> {
    await this.trx
      .insertInto('operations')
      .values({
        cashbox_id: operation.cashboxId,
        operation_id: operation.operationId,
        kind: operation.kind,
        request_hash: operation.requestHash,
        queue_item_id: operation.queueItemId,
        created_at: operation.createdAt,
      })
      .execute()
  }

  async saveQueue(state: QueueState): Promise<void> {
    await this.trx
      .updateTable('queues')
      .set({
        current_row: state.currentRow,
        receipt_numerator: state.receiptNumerator,
        action_numerator: state.actionNumerator,
        last_receipt_hash: state.lastReceiptHash,
        start_moment: state.startMoment,
        stop_moment: state.stopMoment,
        totalizers: JSON.stringify(state.totalizers),
      })
      .where('id', '=', state.id)
      .execute()
  }
}

export function createLedger(storage: Storage): Ledger {
  const lockRows = storage.engine === 'postgres'
  return {
    work: (fn) => storage.transact((trx) => fn(new TransactionWork(trx, lockRows))),
    findOperation: (cashboxId, operationId) => findOperation(storage.db, cashboxId, operationId),
    queueItemResponse: (queueItemId) =>
      storage.db
        .selectFrom('queue_items')
        .select('response')
        .where('id', '=', queueItemId)
        .executeTakeFirst()
        .then((row) => row?.response),
  }
}
