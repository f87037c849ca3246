import { randomUUID } from 'node:crypto'
import type { Selectable, Transaction, Updateable } from 'kysely'
import type { UnitOfWork } from '../../core/ports.ts'
import type {
  Environment,
  FiscalRecord,
  TransactionRecord,
  TransactionStatus,
  TransactionType,
} from '../../core/v1/model.ts'
import type { ChainState, TransactionStore, V1Unit } from '../../core/v1/ports.ts'
import type { Engine, Storage } from '../database.ts'
import type { Database, FiscalRecordTable, TransactionTable } from '../schema.ts'
import { insertOutboxJob } from './outbox.ts'
import { readsOf } from './v1-reader.ts'
import { newestFirstPage } from './newest-first-page.ts'

const json = (text: string | null): unknown => (text === null ? null : JSON.parse(text))

export const toTransaction = (row: Selectable<TransactionTable>): TransactionRecord => ({
  id: row.id,
  accountId: row.account_id,
  locationId: row.location_id,
  idempotencyKey: row.idempotency_key,
  requestHash: row.request_hash,
  type: row.type as TransactionType,
  status: row.status as TransactionStatus,
  amount: Number(row.amount),
  currency: row.currency,
  country: row.country,
  environment: row.environment as Environment,
  requestPayload: json(row.request_payload),
  responsePayload: json(row.response_payload),
  fiscalId: row.fiscal_id,
  errorMessage: row.error_message,
  originalTransactionId: row.original_transaction_id,
  submittedAt: row.submitted_at,
  completedAt: row.completed_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
})

const toRecord = (row: Selectable<FiscalRecordTable>): FiscalRecord => ({
  transactionId: row.transaction_id,
  locationId: row.location_id,
  environment: row.environment as Environment,
  sequence: Number(row.sequence),
  fiscalizer: row.fiscalizer,
  previousHash: row.previous_hash,
  hash: row.hash,
  record: row.record,
  fiscalId: row.fiscal_id,
  createdAt: row.created_at,
})

/** The v1 writes of one storage transaction. */
export class KyselyV1Unit implements V1Unit {
  readonly unit: UnitOfWork
  constructor(
    private readonly trx: Transaction<Database>,
    private readonly engine: Engine,
  ) {
    this.unit = trx as unknown as UnitOfWork
  }

  async insertTransaction(t: TransactionRecord): Promise<boolean> {
    const result = await this.trx
      .insertInto('transactions')
      .values({
        id: t.id,
        account_id: t.accountId,
        location_id: t.locationId,
        idempotency_key: t.idempotencyKey,
        request_hash: t.requestHash,
        type: t.type,
        status: t.status,
        amount: t.amount,
        currency: t.currency,
        country: t.country,
        environment: t.environment,
        request_payload: JSON.stringify(t.requestPayload),
        response_payload: t.responsePayload === null ? null : JSON.stringify(t.responsePayload),
        fiscal_id: t.fiscalId,
        error_message: t.errorMessage,
        original_transaction_id: t.originalTransactionId,
        submitted_at: t.submittedAt,
        completed_at: t.completedAt,
        created_at: t.createdAt,
        updated_at: t.updatedAt,
      })
      .onConflict((oc) => oc.columns(['account_id', 'idempotency_key']).doNothing())
      .executeTakeFirst()
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1
  }

  async findTransaction(accountId: string, id: string, lock = false) {
    let query = this.trx
      .selectFrom('transactions')
      .selectAll()
      .where('id', '=', id)
      .where('account_id', '=', accountId)
    if (lock && this.engine === 'postgres') query = query.forUpdate()
    const row = await query.executeTakeFirst()
    return row ? toTransaction(row) : undefined
  }

  async findByIdempotencyKey(accountId: string, key: string) {
    const row = await this.trx
      .selectFrom('transactions')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('idempotency_key', '=', key)
      .executeTakeFirst()
    return row ? toTransaction(row) : undefined
  }

  async findCancellationOf(originalId: string) {
    const row = await this.trx
      .selectFrom('transactions')
      .selectAll()
      .where('original_transaction_id', '=', originalId)
      .executeTakeFirst()
    return row ? toTransaction(row) : undefined
  }

  async lockChain(locationId: string, environment: Environment): Promise<ChainState> {
    let query = this.trx
      .selectFrom('fiscal_chains')
      .selectAll()
      .where('location_id', '=', locationId)
      .where('environment', '=', environment)
    // The chain row is the location's serialization point across nodes; SQLite has one writer anyway.
    if (this.engine === 'postgres') query = query.forUpdate()
    const row = await query.executeTakeFirstOrThrow()
    return { lastSequence: Number(row.last_sequence), lastHash: row.last_hash, state: row.state }
  }

  async saveChain(locationId: string, environment: Environment, chain: ChainState) {
    await this.trx
      .updateTable('fiscal_chains')
      .set({ last_sequence: chain.lastSequence, last_hash: chain.lastHash, state: chain.state })
      .where('location_id', '=', locationId)
      .where('environment', '=', environment)
      .execute()
  }

  async insertRecord(r: FiscalRecord) {
    await this.trx
      .insertInto('fiscal_records')
      .values({
        transaction_id: r.transactionId,
        location_id: r.locationId,
        environment: r.environment,
        sequence: r.sequence,
        fiscalizer: r.fiscalizer,
        previous_hash: r.previousHash,
        hash: r.hash,
        record: r.record,
        fiscal_id: r.fiscalId,
        created_at: r.createdAt,
      })
      .execute()
  }

  async findRecord(transactionId: string) {
    const row = await this.trx
      .selectFrom('fiscal_records')
      .selectAll()
      .where('transaction_id', '=', transactionId)
      .executeTakeFirst()
    return row ? toRecord(row) : undefined
  }

  async updateTransaction(id: string, patch: Parameters<V1Unit['updateTransaction']>[1]) {
    const set: Updateable<TransactionTable> = { updated_at: patch.updatedAt }
    if (patch.status !== undefined) set.status = patch.status
    if (patch.responsePayload !== undefined)
      set.response_payload = patch.responsePayload === null ? null : JSON.stringify(patch.responsePayload)
    if (patch.fiscalId !== undefined) set.fiscal_id = patch.fiscalId
    if (patch.errorMessage !== undefined) set.error_message = patch.errorMessage
    if (patch.submittedAt !== undefined) set.submitted_at = patch.submittedAt
    if (patch.completedAt !== undefined) set.completed_at = patch.completedAt
    let update = this.trx.updateTable('transactions').set(set).where('id', '=', id)
    if (patch.onlyFrom) {
      if (patch.onlyFrom.length === 0) return false
      update = update.where('status', 'in', [...patch.onlyFrom])
    }
    const result = await update.executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  insertJob(job: Parameters<V1Unit['insertJob']>[0]) {
    return insertOutboxJob(this.trx, job)
  }

  async enqueueWebhooks(event: Parameters<V1Unit['enqueueWebhooks']>[0]): Promise<number> {
    const endpoints = await this.trx
      .selectFrom('webhook_endpoints')
      .select(['id', 'events'])
      .where('account_id', '=', event.accountId)
      .where('active', '=', 1)
      .execute()
    let count = 0
    for (const endpoint of endpoints) {
      if (!(JSON.parse(endpoint.events) as string[]).includes(event.event)) continue
      const deliveryId = randomUUID()
      await this.trx
        .insertInto('webhook_deliveries')
        .values({
          id: deliveryId,
          endpoint_id: endpoint.id,
          account_id: event.accountId,
          event_id: event.eventId,
          event_type: event.event,
          payload: event.body,
          status: 'pending',
          attempts: 0,
          last_status_code: null,
          last_error: null,
          created_at: event.createdAt,
          delivered_at: null,
        })
        .execute()
      await this.insertJob({
        id: randomUUID(),
        accountId: event.accountId,
        kind: 'webhook',
        subjectId: deliveryId,
        groupKey: endpoint.id,
        maxAttempts: event.maxAttempts,
        runAt: event.runAt,
        createdAt: event.createdAt,
      })
      count += 1
    }
    return count
  }

  async updateDelivery(id: string, patch: Parameters<V1Unit['updateDelivery']>[1]) {
    const set: Updateable<Database['webhook_deliveries']> = {}
    if (patch.status !== undefined) set.status = patch.status
    if (patch.attempts !== undefined) set.attempts = patch.attempts
    if (patch.lastStatusCode !== undefined) set.last_status_code = patch.lastStatusCode
    if (patch.lastError !== undefined) set.last_error = patch.lastError
    if (patch.deliveredAt !== undefined) set.delivered_at = patch.deliveredAt
    if (Object.keys(set).length === 0) return
    await this.trx.updateTable('webhook_deliveries').set(set).where('id', '=', id).execute()
  }
}

export function transactionStore(storage: Storage): TransactionStore {
  const db = readsOf(storage)
  return {
    unit: (work) => storage.transact((trx) => work(new KyselyV1Unit(trx, storage.engine))),
    get: async (accountId, id) => {
      const row = await db
        .selectFrom('transactions')
        .selectAll()
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .executeTakeFirst()
      return row ? toTransaction(row) : undefined
    },
    byIdempotencyKey: async (accountId, key) => {
      const row = await db
        .selectFrom('transactions')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('idempotency_key', '=', key)
        .executeTakeFirst()
      return row ? toTransaction(row) : undefined
    },
    list: async (accountId, { status, limit, offset }) => {
      let base = db.selectFrom('transactions').where('account_id', '=', accountId)
      if (status) base = base.where('status', '=', status)
      const { rows, total } = await newestFirstPage(base, limit, offset)
      return { data: rows.map(toTransaction), total }
    },
    withRecords: async (ids) => {
      if (ids.length === 0) return []
      const [transactions, records] = await Promise.all([
        db.selectFrom('transactions').selectAll().where('id', 'in', ids).execute(),
        db.selectFrom('fiscal_records').selectAll().where('transaction_id', 'in', ids).execute(),
      ])
      const byId = new Map(records.map((r) => [r.transaction_id, toRecord(r)]))
      return transactions.map((t) => ({ transaction: toTransaction(t), record: byId.get(t.id) }))
    },
  }
}
