import type { Database as SqliteDatabase, Statement } from 'better-sqlite3'
import type { Kysely, Selectable, Transaction } from 'kysely'
import type {
  ActionJournalRecord,
  Ledger,
  OperationRecord,
  QueueItemRecord,
  QueueState,
  QueueWork,
  ReceiptJournalRecord,
  Reservation,
  UnitOfWork,
} from '../../core/ports.ts'
import type { Totalizers } from '../../core/totalizers.ts'
import type { SqliteConnections, Storage } from '../database.ts'
import type { Database, OperationTable, QueueTable } from '../schema.ts'

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

const unitOf = (trx: Transaction<Database>) => trx as unknown as UnitOfWork

/** The Kysely transaction behind a unit of work, for a market's own repositories. */
export const transactionOf = (unit: UnitOfWork) => unit as unknown as Transaction<Database>

const OPERATION_SQL = 'select * from operations where cashbox_id = ? and operation_id = ?'

const toQueueState = (row: Selectable<QueueTable>): QueueState => ({
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
  marketState: row.market_state,
  reservation: row.reservation ? (JSON.parse(row.reservation) as Reservation) : null,
})

const reservationText = (state: QueueState) => (state.reservation ? JSON.stringify(state.reservation) : null)

function reservedQueues(db: Kysely<Database>) {
  return db
    .selectFrom('queues')
    .select(['id', 'country_code'])
    .where('reservation', 'is not', null)
    .execute()
    .then((rows) => rows.map((row) => ({ queueId: row.id, countryCode: row.country_code })))
}

/**
 * The unit of work on Kysely: PostgreSQL's. SQLite runs on SqliteStatements below, and on this one only when
 * built on a storage without its SQLite connections (the storage contract suite checks both copies).
 */
class TransactionWork implements QueueWork {
  readonly unit: UnitOfWork
  constructor(
    private readonly trx: Transaction<Database>,
    private readonly lockRows: boolean,
  ) {
    this.unit = unitOf(trx)
  }

  async lockQueue(queueId: string): Promise<QueueState> {
    let query = this.trx.selectFrom('queues').selectAll().where('id', '=', queueId)
    // The row lock is the queue's serialization point across nodes; SQLite has one writer anyway.
    if (this.lockRows) query = query.forUpdate()
    return toQueueState(await query.executeTakeFirstOrThrow())
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
        market_state: state.marketState,
        reservation: reservationText(state),
      })
      .where('id', '=', state.id)
      .execute()
  }
}

/**
 * The same statements as TransactionWork, prepared once on SQLite's writing connection. Kysely builds,
 * compiles and prepares every query anew (~50-100 µs each); a prepared better-sqlite3 statement runs in a
 * few µs, and the hot path runs eight of them per receipt. Only used inside storage.transact(), where the
 * group commit holds the writer in its transaction.
 */
export class SqliteStatements {
  private readonly selectQueue: Statement<[string], Selectable<QueueTable>>
  readonly selectOperation: Statement<[string, string], Selectable<OperationTable>>
  private readonly insertItem: Statement<unknown[]>
  private readonly insertReceipt: Statement<unknown[]>
  private readonly insertAction: Statement<unknown[]>
  private readonly insertOp: Statement<unknown[]>
  private readonly updateQueue: Statement<unknown[]>
  /** The QueueWork on these statements: it has no state of its own but the transaction it runs in. */
  readonly work: Omit<QueueWork, 'unit'>

  constructor(writer: SqliteDatabase) {
    this.selectQueue = writer.prepare('select * from queues where id = ?')
    this.selectOperation = writer.prepare(OPERATION_SQL)
    this.insertItem = writer.prepare(
      'insert into queue_items (id, queue_id, row, operation_id, cb_receipt_reference, cb_terminal_id, ft_receipt_case, cb_receipt_moment, ft_moment, request, request_hash, response, response_hash, ft_state) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    this.insertReceipt = writer.prepare(
      'insert into receipt_journal (id, queue_id, number, queue_item_id, queue_row, moment, receipt_case, total, request_hash, response_hash, previous_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    this.insertAction = writer.prepare(
      'insert into action_journal (id, queue_id, number, queue_item_id, moment, type, message, data) values (?, ?, ?, ?, ?, ?, ?, ?)',
    )
    this.insertOp = writer.prepare(
      'insert into operations (cashbox_id, operation_id, kind, request_hash, queue_item_id, created_at) values (?, ?, ?, ?, ?, ?)',
    )
    this.updateQueue = writer.prepare(
      'update queues set current_row = ?, receipt_numerator = ?, action_numerator = ?, last_receipt_hash = ?, start_moment = ?, stop_moment = ?, totalizers = ?, market_state = ?, reservation = ? where id = ?',
    )
    this.work = {
      lockQueue: async (queueId) => {
        const row = this.selectQueue.get(queueId)
        if (!row) throw new Error(`no queue ${queueId}`)
        return toQueueState(row)
      },
      findOperation: async (cashboxId, operationId) => {
        const row = this.selectOperation.get(cashboxId, operationId)
        return row ? toOperation(row) : undefined
      },
      insertQueueItem: async (i) => {
        this.insertItem.run(
          i.id,
          i.queueId,
          i.row,
          i.operationId,
          i.cbReceiptReference,
          i.cbTerminalId,
          i.ftReceiptCase,
          i.cbReceiptMoment,
          i.ftMoment,
          i.request,
          i.requestHash,
          i.response,
          i.responseHash,
          i.ftState,
        )
      },
      insertReceiptJournal: async (e) => {
        this.insertReceipt.run(
          e.id,
          e.queueId,
          e.number,
          e.queueItemId,
          e.queueRow,
          e.moment,
          e.receiptCase,
          e.total,
          e.requestHash,
          e.responseHash,
          e.previousHash,
          e.hash,
        )
      },
      insertActionJournal: async (e) => {
        this.insertAction.run(e.id, e.queueId, e.number, e.queueItemId, e.moment, e.type, e.message, e.data)
      },
      insertOperation: async (o) => {
        this.insertOp.run(o.cashboxId, o.operationId, o.kind, o.requestHash, o.queueItemId, o.createdAt)
      },
      saveQueue: async (q) => {
        this.updateQueue.run(
          q.currentRow,
          q.receiptNumerator,
          q.actionNumerator,
          q.lastReceiptHash,
          q.startMoment,
          q.stopMoment,
          JSON.stringify(q.totalizers),
          q.marketState,
          reservationText(q),
          q.id,
        )
      },
    }
  }

  workIn(trx: Transaction<Database>): QueueWork {
    return { ...this.work, unit: unitOf(trx) }
  }
}

function createSqliteLedger(storage: Storage, sqlite: SqliteConnections): Ledger {
  const statements = new SqliteStatements(sqlite.writer)
  const responseSql = 'select response from queue_items where id = ?'
  const read = {
    operation: sqlite.reader.prepare<[string, string], Selectable<OperationTable>>(OPERATION_SQL),
    response: sqlite.reader.prepare<[string], { response: string }>(responseSql),
  }
  const write = {
    operation: statements.selectOperation,
    response: sqlite.writer.prepare<[string], { response: string }>(responseSql),
  }
  // Reads outside a unit of work must see only committed data. While the writer has a transaction open
  // (the group commit's, or a Kysely one) they go to the read-only connection; otherwise everything the
  // writer sees is committed, and its page cache is warm, where the reader's is dropped after every commit.
  const source = () => (sqlite.writer.inTransaction ? read : write)
  return {
    sharedByNodes: false,
    // storage.transact is looked up on each call, not bound once: it stays replaceable (tests hold it).
    work: (fn) => storage.transact((trx) => fn(statements.workIn(trx))),
    reservedQueues: () => reservedQueues(storage.db),
    findOperation: async (cashboxId, operationId) => {
      const row = source().operation.get(cashboxId, operationId)
      return row ? toOperation(row) : undefined
    },
    queueItemResponse: async (queueItemId) => {
      const response = source().response.get(queueItemId)?.response
      // Committed is not yet durable for about a millisecond: a replay must not hand out an answer that a
      // power cut could still take back.
      await sqlite.durable()
      return response
    },
  }
}

export function createLedger(storage: Storage): Ledger {
  if (storage.sqlite) return createSqliteLedger(storage, storage.sqlite)
  const lockRows = storage.engine === 'postgres'
  return {
    sharedByNodes: lockRows,
    work: (fn) => storage.transact((trx) => fn(new TransactionWork(trx, lockRows))),
    reservedQueues: () => reservedQueues(storage.db),
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
