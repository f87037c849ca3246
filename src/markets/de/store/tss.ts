import type { Compilable, Insertable, Kysely, Selectable, SelectQueryBuilder, Transaction } from 'kysely'
import SqliteConnection, { type Database as SqliteDatabase } from 'better-sqlite3'
import type { UnitOfWork } from '../../../core/ports.ts'
import type { ModuleDatabase } from '../../module.ts'
import type { TssAlgorithm } from '../tss/algorithms.ts'
import type { LogKind } from '../tss/log-message.ts'
import type {
  ClientRecord,
  ClientState,
  ExportFilters,
  ExportRecord,
  ExportState,
  ListQuery,
  LogRecord,
  LogSelection,
  Metadata,
  TransactionRecord,
  TransactionState,
  TssRecord,
  TssState,
} from '../tss/model.ts'
import type { Page, TssStore, TssWork } from '../tss/ports.ts'
import { deSecretStore } from './secrets.ts'
import type {
  DeTables,
  DeTssClientTable,
  DeTssExportTable,
  DeTssLogTable,
  DeTssTable,
  DeTssTransactionTable,
} from './tables.ts'

const json = (text: string) => JSON.parse(text) as Metadata

const toTss = (r: Selectable<DeTssTable>): TssRecord => ({
  id: r.id,
  organizationId: r.organization_id,
  env: r.env,
  state: r.state as TssState,
  description: r.description,
  metadata: json(r.metadata),
  algorithm: r.algorithm as TssAlgorithm,
  publicKey: r.public_key,
  serialNumber: r.serial_number,
  privateKeyEncrypted: r.private_key_encrypted,
  certificate: r.certificate,
  adminPukHash: r.admin_puk_hash,
  adminPukEncrypted: r.admin_puk_encrypted,
  adminPinHash: r.admin_pin_hash,
  adminPinFailures: r.admin_pin_failures,
  adminSessionUntil: r.admin_session_until,
  signatureCounter: r.signature_counter,
  transactionCounter: r.transaction_counter,
  numberRegisteredClients: r.number_registered_clients,
  numberActiveTransactions: r.number_active_transactions,
  lastLogTime: r.last_log_time,
  timeCreation: r.time_creation,
  timeUninit: r.time_uninit,
  timeInit: r.time_init,
  timeDisable: r.time_disable,
})

const fromTss = (t: TssRecord): Insertable<DeTssTable> => ({
  id: t.id,
  organization_id: t.organizationId,
  env: t.env,
  state: t.state,
  description: t.description,
  metadata: JSON.stringify(t.metadata),
  algorithm: t.algorithm,
  public_key: t.publicKey,
  serial_number: t.serialNumber,
  private_key_encrypted: t.privateKeyEncrypted,
  certificate: t.certificate,
  admin_puk_hash: t.adminPukHash,
  admin_puk_encrypted: t.adminPukEncrypted,
  admin_pin_hash: t.adminPinHash,
  admin_pin_failures: t.adminPinFailures,
  admin_session_until: t.adminSessionUntil,
  signature_counter: t.signatureCounter,
  transaction_counter: t.transactionCounter,
  number_registered_clients: t.numberRegisteredClients,
  number_active_transactions: t.numberActiveTransactions,
  last_log_time: t.lastLogTime,
  time_creation: t.timeCreation,
  time_uninit: t.timeUninit,
  time_init: t.timeInit,
  time_disable: t.timeDisable,
})

const toClient = (r: Selectable<DeTssClientTable>): ClientRecord => ({
  id: r.id,
  tssId: r.tss_id,
  serialNumber: r.serial_number,
  state: r.state as ClientState,
  metadata: json(r.metadata),
  timeCreation: r.time_creation,
  timeUpdate: r.time_update,
})

const fromClient = (c: ClientRecord): Insertable<DeTssClientTable> => ({
  id: c.id,
  tss_id: c.tssId,
  serial_number: c.serialNumber,
  state: c.state,
  metadata: JSON.stringify(c.metadata),
  time_creation: c.timeCreation,
  time_update: c.timeUpdate,
})

const toTx = (r: Selectable<DeTssTransactionTable>): TransactionRecord => ({
  tssId: r.tss_id,
  id: r.id,
  number: r.number,
  clientId: r.client_id,
  state: r.state as TransactionState,
  latestRevision: r.latest_revision,
  schemaKind: r.schema_kind,
  metadata: json(r.metadata),
  timeStart: r.time_start,
  timeEnd: r.time_end,
})

const fromTx = (t: TransactionRecord): Insertable<DeTssTransactionTable> => ({
  tss_id: t.tssId,
  id: t.id,
  number: t.number,
  client_id: t.clientId,
  state: t.state,
  latest_revision: t.latestRevision,
  schema_kind: t.schemaKind,
  metadata: JSON.stringify(t.metadata),
  time_start: t.timeStart,
  time_end: t.timeEnd,
})

const toLog = (r: Selectable<DeTssLogTable>): LogRecord => ({
  tssId: r.tss_id,
  signatureCounter: r.signature_counter,
  kind: r.kind as LogKind,
  operation: r.operation,
  logTime: r.log_time,
  transactionNumber: r.transaction_number,
  clientSerial: r.client_serial,
  message: Buffer.from(r.message, 'base64'),
})

const toExport = (r: Selectable<DeTssExportTable>): ExportRecord => ({
  tssId: r.tss_id,
  id: r.id,
  state: r.state as ExportState,
  filters: JSON.parse(r.filters) as ExportFilters,
  exception: r.exception,
  uptoSignatureCounter: r.upto_signature_counter,
  recordCount: r.record_count,
  metadata: json(r.metadata),
  timeRequest: r.time_request,
  timeStart: r.time_start,
  timeEnd: r.time_end,
  timeExpiration: r.time_expiration,
})

const fromExport = (e: ExportRecord): Insertable<DeTssExportTable> => ({
  tss_id: e.tssId,
  id: e.id,
  state: e.state,
  filters: JSON.stringify(e.filters),
  exception: e.exception,
  upto_signature_counter: e.uptoSignatureCounter,
  record_count: e.recordCount,
  metadata: JSON.stringify(e.metadata),
  time_request: e.timeRequest,
  time_start: e.timeStart,
  time_end: e.timeEnd,
  time_expiration: e.timeExpiration,
})

/** The tables whose rows belong to one TSS and are keyed by (tss_id, id). */
type TssOwnedTable = 'de_tss_transactions' | 'de_tss_exports'

/** Find, insert and save of the records of a table keyed by (tss_id, id): transactions and exports. */
function tssOwnedRows<T extends TssOwnedTable, R>(
  trx: Transaction<DeTables> | Kysely<DeTables>,
  table: T,
  read: (row: Selectable<DeTables[T]>) => R,
  write: (record: R) => Insertable<DeTables[T]> & { tss_id: string; id: string },
) {
  // Kysely cannot resolve the columns of a generic table; both tables have the key columns used here.
  const scope = table as TssOwnedTable
  return {
    async find(tssId: string, id: string): Promise<R | undefined> {
      const row = await trx
        .selectFrom(scope)
        .selectAll()
        .where('tss_id', '=', tssId)
        .where('id', '=', id)
        .executeTakeFirst()
      return row ? read(row as Selectable<DeTables[T]>) : undefined
    },
    async insert(record: R): Promise<void> {
      await trx
        .insertInto(scope)
        .values(write(record) as never)
        .execute()
    },
    async save(record: R): Promise<void> {
      const { tss_id, id, ...row } = write(record)
      await trx
        .updateTable(scope)
        .set(row as never)
        .where('tss_id', '=', tss_id)
        .where('id', '=', id)
        .execute()
    },
  }
}

function work(trx: Transaction<DeTables> | Kysely<DeTables>, lockRows: boolean): TssWork {
  const transactions = tssOwnedRows(trx, 'de_tss_transactions', toTx, fromTx)
  const exports = tssOwnedRows(trx, 'de_tss_exports', toExport, fromExport)
  return {
    async lockTss(id) {
      let query = trx.selectFrom('de_tss').selectAll().where('id', '=', id)
      // The TSS row lock orders the operations of one TSS across nodes (SQLite has one writer anyway).
      if (lockRows) query = query.forUpdate()
      const row = await query.executeTakeFirst()
      return row ? toTss(row) : undefined
    },
    async insertTss(tss) {
      const result = await trx
        .insertInto('de_tss')
        .values(fromTss(tss))
        .onConflict((c) => c.column('id').doNothing())
        .executeTakeFirst()
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1
    },
    async saveTss(tss) {
      const { id, ...row } = fromTss(tss)
      await trx.updateTable('de_tss').set(row).where('id', '=', id).execute()
    },
    async findClient(id) {
      const row = await trx.selectFrom('de_tss_clients').selectAll().where('id', '=', id).executeTakeFirst()
      return row ? toClient(row) : undefined
    },
    async findClientBySerial(tssId, serialNumber) {
      const row = await trx
        .selectFrom('de_tss_clients')
        .selectAll()
        .where('tss_id', '=', tssId)
        .where('serial_number', '=', serialNumber)
        .executeTakeFirst()
      return row ? toClient(row) : undefined
    },
    async insertClient(client) {
      await trx.insertInto('de_tss_clients').values(fromClient(client)).execute()
    },
    async saveClient(client) {
      const { id, ...row } = fromClient(client)
      await trx.updateTable('de_tss_clients').set(row).where('id', '=', id).execute()
    },
    findTransaction: transactions.find,
    insertTransaction: transactions.insert,
    saveTransaction: transactions.save,
    async findRevision(tssId, txId, revision) {
      const row = await trx
        .selectFrom('de_tss_tx_revisions')
        .select(['request_hash', 'response'])
        .where('tss_id', '=', tssId)
        .where('tx_id', '=', txId)
        .where('revision', '=', revision)
        .executeTakeFirst()
      return row ? { requestHash: row.request_hash, response: row.response } : undefined
    },
    async insertRevision(tssId, txId, revision, requestHash, response) {
      await trx
        .insertInto('de_tss_tx_revisions')
        .values({ tss_id: tssId, tx_id: txId, revision, request_hash: requestHash, response })
        .execute()
    },
    async insertLog(log) {
      await trx
        .insertInto('de_tss_logs')
        .values({
          tss_id: log.tssId,
          signature_counter: log.signatureCounter,
          kind: log.kind,
          operation: log.operation,
          log_time: log.logTime,
          transaction_number: log.transactionNumber,
          client_serial: log.clientSerial,
          message: log.message.toString('base64'),
        })
        .execute()
    },
    findExport: exports.find,
    insertExport: exports.insert,
    saveExport: exports.save,
    async countOpenExports(tssId) {
      const row = await trx
        .selectFrom('de_tss_exports')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('tss_id', '=', tssId)
        .where('state', 'in', ['PENDING', 'WORKING'])
        .executeTakeFirstOrThrow()
      return Number(row.n)
    },
  }
}

/**
 * The same work as work() above, on statements prepared once on SQLite's writing connection: Kysely
 * builds and prepares each query anew (50-100 µs), a prepared statement runs in a few µs, and a TSS
 * operation runs about eight of them. Only used inside database.transact() or a receipt's unit of work,
 * where the group commit holds the writer in its transaction.
 */
function sqliteWork(writer: SqliteDatabase): TssWork {
  const tssColumns = Object.keys(fromTss(EMPTY_TSS))
  const insert = (table: string, columns: string[], onConflict = '') =>
    writer.prepare(
      `insert into ${table} (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})${onConflict && ` ${onConflict}`}`,
    )
  const update = (table: string, columns: string[], keys: string[]) =>
    writer.prepare(
      `update ${table} set ${columns
        .filter((c) => !keys.includes(c))
        .map((c) => `${c} = @${c}`)
        .join(', ')} where ${keys.map((k) => `${k} = @${k}`).join(' and ')}`,
    )
  /** Find by key, insert and save of one table's records, as tssOwnedRows does with Kysely. */
  const keyedRows = <R, Row>(
    table: string,
    keys: string[],
    read: (row: Row) => R,
    write: (record: R) => object,
    empty: R,
  ) => {
    const columns = Object.keys(write(empty))
    const select = writer.prepare<string[], Row>(
      `select * from ${table} where ${keys.map((k) => `${k} = ?`).join(' and ')}`,
    )
    const inserting = insert(table, columns)
    const saving = update(table, columns, keys)
    return {
      find: async (...key: string[]): Promise<R | undefined> => {
        const row = select.get(...key)
        return row ? read(row) : undefined
      },
      insert: async (record: R): Promise<void> => {
        inserting.run(write(record))
      },
      save: async (record: R): Promise<void> => {
        saving.run(write(record))
      },
    }
  }
  const clients = keyedRows('de_tss_clients', ['id'], toClient, fromClient, EMPTY_CLIENT)
  const transactions = keyedRows('de_tss_transactions', ['tss_id', 'id'], toTx, fromTx, EMPTY_TX)
  const exports = keyedRows('de_tss_exports', ['tss_id', 'id'], toExport, fromExport, EMPTY_EXPORT)
  const q = {
    tss: writer.prepare<[string], Selectable<DeTssTable>>('select * from de_tss where id = ?'),
    insertTss: insert('de_tss', tssColumns, 'on conflict (id) do nothing'),
    saveTss: update('de_tss', tssColumns, ['id']),
    clientBySerial: writer.prepare<[string, string], Selectable<DeTssClientTable>>(
      'select * from de_tss_clients where tss_id = ? and serial_number = ?',
    ),
    revision: writer.prepare<[string, string, number], { request_hash: string; response: string }>(
      'select request_hash, response from de_tss_tx_revisions where tss_id = ? and tx_id = ? and revision = ?',
    ),
    insertRevision: writer.prepare(
      'insert into de_tss_tx_revisions (tss_id, tx_id, revision, request_hash, response) values (?, ?, ?, ?, ?)',
    ),
    insertLog: writer.prepare(
      'insert into de_tss_logs (tss_id, signature_counter, kind, operation, log_time, transaction_number, client_serial, message) values (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    openExports: writer.prepare<[string], { n: number }>(
      "select count(*) as n from de_tss_exports where tss_id = ? and state in ('PENDING', 'WORKING')",
    ),
  }
  return {
    lockTss: async (id) => {
      const row = q.tss.get(id)
      return row ? toTss(row) : undefined
    },
    insertTss: async (tss) => q.insertTss.run(fromTss(tss)).changes === 1,
    saveTss: async (tss) => {
      q.saveTss.run(fromTss(tss))
    },
    findClient: clients.find,
    findClientBySerial: async (tssId, serialNumber) => {
      const row = q.clientBySerial.get(tssId, serialNumber)
      return row ? toClient(row) : undefined
    },
    insertClient: clients.insert,
    saveClient: clients.save,
    findTransaction: transactions.find,
    insertTransaction: transactions.insert,
    saveTransaction: transactions.save,
    findRevision: async (tssId, txId, revision) => {
      const row = q.revision.get(tssId, txId, revision)
      return row ? { requestHash: row.request_hash, response: row.response } : undefined
    },
    insertRevision: async (tssId, txId, revision, requestHash, response) => {
      q.insertRevision.run(tssId, txId, revision, requestHash, response)
    },
    insertLog: async (log) => {
      q.insertLog.run(
        log.tssId,
        log.signatureCounter,
        log.kind,
        log.operation,
        log.logTime,
        log.transactionNumber,
        log.clientSerial,
        log.message.toString('base64'),
      )
    },
    findExport: exports.find,
    insertExport: exports.insert,
    saveExport: exports.save,
    countOpenExports: async (tssId) => q.openExports.get(tssId)?.n ?? 0,
  }
}

// Records whose only use is to list the columns of their tables.
const EMPTY_TSS = toTss({
  id: '',
  organization_id: '',
  env: '',
  state: '',
  description: '',
  metadata: '{}',
  algorithm: '',
  public_key: '',
  serial_number: '',
  private_key_encrypted: '',
  certificate: '',
  admin_puk_hash: '',
  admin_puk_encrypted: null,
  admin_pin_hash: null,
  admin_pin_failures: 0,
  admin_session_until: null,
  signature_counter: 0,
  transaction_counter: 0,
  number_registered_clients: 0,
  number_active_transactions: 0,
  last_log_time: 0,
  time_creation: 0,
  time_uninit: null,
  time_init: null,
  time_disable: null,
})
const EMPTY_CLIENT = toClient({
  id: '',
  tss_id: '',
  serial_number: '',
  state: '',
  metadata: '{}',
  time_creation: 0,
  time_update: 0,
})
const EMPTY_TX = toTx({
  tss_id: '',
  id: '',
  number: 0,
  client_id: '',
  state: '',
  latest_revision: 0,
  schema_kind: null,
  metadata: '{}',
  time_start: 0,
  time_end: null,
})
const EMPTY_EXPORT = toExport({
  tss_id: '',
  id: '',
  state: '',
  filters: '{}',
  exception: null,
  upto_signature_counter: null,
  record_count: null,
  metadata: '{}',
  time_request: 0,
  time_start: null,
  time_end: null,
  time_expiration: null,
})

const LOG_PAGE = 1000
/** Page cache of an export's own SQLite connection, KiB. */
const SCAN_CACHE_KIB = 2048

export function tssStore(database: ModuleDatabase<DeTables>): TssStore {
  const { db } = database
  const lockRows = database.engine === 'postgres'
  const reader = database.sqlite?.reader
  const prepared = database.sqlite ? sqliteWork(database.sqlite.writer) : undefined

  /**
   * Reads outside a unit of work see committed data only. On SQLite they go to the read-only connection,
   * so a read never waits for (nor sees) the group commit's open transaction.
   */
  async function all<R>(query: Compilable<R> & { execute(): Promise<R[]> }): Promise<R[]> {
    if (!reader) return query.execute()
    const compiled = query.compile()
    return reader.prepare(compiled.sql).all(...(compiled.parameters as unknown[])) as R[]
  }
  const first = async <R>(query: Compilable<R> & { execute(): Promise<R[]> }) => (await all(query))[0]

  async function page<T, R>(
    base: SelectQueryBuilder<DeTables, keyof DeTables, R>,
    /** A column name; the API allows only the ones its order_by enum lists. */
    orderBy: string,
    query: ListQuery,
    map: (row: R) => T,
  ): Promise<Page<T>> {
    const counted = await first(
      base.clearSelect().select((eb) => eb.fn.countAll<number>().as('n')) as unknown as SelectQueryBuilder<
        DeTables,
        keyof DeTables,
        { n: number }
      >,
    )
    const rows = await all(
      base
        .orderBy(orderBy as never, query.order)
        .limit(query.limit)
        .offset(query.offset),
    )
    return { data: rows.map(map), count: Number(counted?.n ?? 0) }
  }

  /** A page of a table whose rows belong to a TSS: those of one organization's TSS (or of one TSS). */
  function organizationPage<T extends 'de_tss_clients' | 'de_tss_exports', R>(
    table: T,
    filter: { organizationId: string; tssId?: string },
    query: ListQuery,
    defaultOrderBy: string,
    map: (row: Selectable<DeTables[T]>) => R,
  ): Promise<Page<R>> {
    // The two tables share tss_id and state; the column names are built from the table's.
    let base = db
      .selectFrom(table as 'de_tss_clients')
      .innerJoin('de_tss', 'de_tss.id', `${table}.tss_id` as 'de_tss_clients.tss_id')
      .selectAll(table as 'de_tss_clients')
      .where('de_tss.organization_id', '=', filter.organizationId)
    if (filter.tssId) base = base.where(`${table}.tss_id` as 'de_tss_clients.tss_id', '=', filter.tssId)
    if (query.states?.length)
      base = base.where(`${table}.state` as 'de_tss_clients.state', 'in', query.states)
    return page(base as never, `${table}.${query.orderBy ?? defaultOrderBy}`, query, map as never)
  }

  function logsQuery(selection: LogSelection) {
    const f = selection.filters
    let q = db
      .selectFrom('de_tss_logs')
      .where('tss_id', '=', selection.tssId)
      .where('signature_counter', '<=', selection.uptoSignatureCounter)
    if (f.startSignatureCounter !== undefined) q = q.where('signature_counter', '>=', f.startSignatureCounter)
    if (f.endSignatureCounter !== undefined) q = q.where('signature_counter', '<=', f.endSignatureCounter)
    if (f.startDate !== undefined) q = q.where('log_time', '>=', f.startDate)
    if (f.endDate !== undefined) q = q.where('log_time', '<=', f.endDate)
    if (selection.clientSerial !== undefined) q = q.where('client_serial', '=', selection.clientSerial)
    if (f.transactionNumber !== undefined) q = q.where('transaction_number', '=', f.transactionNumber)
    if (f.startTransactionNumber !== undefined)
      q = q.where('transaction_number', '>=', f.startTransactionNumber)
    if (f.endTransactionNumber !== undefined) q = q.where('transaction_number', '<=', f.endTransactionNumber)
    return q
  }

  return {
    run: (fn) => database.transact((trx) => fn(prepared ?? work(trx, lockRows))),
    within: (unit: UnitOfWork) => prepared ?? work(database.transactionOf(unit), lockRows),
    async getTss(id) {
      const row = await first(db.selectFrom('de_tss').selectAll().where('id', '=', id))
      return row ? toTss(row) : undefined
    },
    async tssInService() {
      const rows = await all(
        db
          .selectFrom('de_tss')
          .select(['id', 'organization_id', 'certificate'])
          .where('state', '!=', 'DISABLED')
          .orderBy('time_creation'),
      )
      return rows.map((r) => ({ id: r.id, organizationId: r.organization_id, certificate: r.certificate }))
    },
    listTss(organizationId, query) {
      let base = db.selectFrom('de_tss').selectAll().where('organization_id', '=', organizationId)
      if (query.states?.length) base = base.where('state', 'in', query.states)
      return page(base as never, query.orderBy ?? 'time_creation', query, toTss)
    },
    async getClient(id) {
      const row = await first(db.selectFrom('de_tss_clients').selectAll().where('id', '=', id))
      return row ? toClient(row) : undefined
    },
    listClients(filter, query) {
      return organizationPage('de_tss_clients', filter, query, 'time_creation', toClient)
    },
    async getTransaction(tssId, idOrNumber) {
      let q = db.selectFrom('de_tss_transactions').selectAll().where('tss_id', '=', tssId)
      q = /^\d+$/.test(idOrNumber)
        ? q.where('number', '=', Number(idOrNumber))
        : q.where('id', '=', idOrNumber)
      const row = await first(q)
      return row ? toTx(row) : undefined
    },
    async getRevisionResponse(tssId, txId, revision) {
      const row = await first(
        db
          .selectFrom('de_tss_tx_revisions')
          .select('response')
          .where('tss_id', '=', tssId)
          .where('tx_id', '=', txId)
          .where('revision', '=', revision),
      )
      return row?.response
    },
    listTransactions(filter, query) {
      let base = db
        .selectFrom('de_tss_transactions')
        .innerJoin('de_tss', 'de_tss.id', 'de_tss_transactions.tss_id')
        .selectAll('de_tss_transactions')
        .where('de_tss.organization_id', '=', filter.organizationId)
      if (filter.tssId) base = base.where('de_tss_transactions.tss_id', '=', filter.tssId)
      if (filter.clientId) base = base.where('de_tss_transactions.client_id', '=', filter.clientId)
      if (query.states?.length) base = base.where('de_tss_transactions.state', 'in', query.states)
      return page(base as never, `de_tss_transactions.${query.orderBy ?? 'number'}`, query, toTx)
    },
    async getExport(tssId, id) {
      const row = await first(
        db.selectFrom('de_tss_exports').selectAll().where('tss_id', '=', tssId).where('id', '=', id),
      )
      return row ? toExport(row) : undefined
    },
    listExports(filter, query) {
      return organizationPage('de_tss_exports', filter, query, 'time_request', toExport)
    },
    async countLogs(selection) {
      const row = await first(logsQuery(selection).select((eb) => eb.fn.countAll<number>().as('n')))
      return Number(row?.n ?? 0)
    },
    async *streamLogs(selection) {
      // On SQLite an export reads through a connection of its own with a small page cache: a scan of
      // millions of messages reads each page once, and would otherwise fill (and evict) the shared
      // reader's 64 MiB cache. Pages of LOG_PAGE rows by counter, each its own short read, so a long
      // download holds no snapshot that keeps the WAL from being checkpointed.
      const scan = reader
        ? new SqliteConnection(reader.name, { readonly: true, fileMustExist: true })
        : undefined
      try {
        scan?.pragma(`cache_size = -${SCAN_CACHE_KIB}`)
        let after = 0
        for (;;) {
          const query = logsQuery(selection)
            .selectAll()
            .where('signature_counter', '>', after)
            .orderBy('signature_counter')
            .limit(LOG_PAGE)
          // SQLite hands the rows over one by one, so each dies young instead of a page of them
          // surviving into the old generation; the statement (and its read) ends with the page.
          const compiled = query.compile()
          const rows: Iterable<Selectable<DeTssLogTable>> = scan
            ? (scan.prepare(compiled.sql).iterate(...(compiled.parameters as unknown[])) as Iterable<
                Selectable<DeTssLogTable>
              >)
            : await query.execute()
          let count = 0
          for (const row of rows) {
            count += 1
            after = row.signature_counter
            yield toLog(row)
          }
          if (count < LOG_PAGE) return
        }
      } finally {
        scan?.close()
      }
    },
    async findLogByCounter(tssId, signatureCounter) {
      const row = await first(
        db
          .selectFrom('de_tss_logs')
          .selectAll()
          .where('tss_id', '=', tssId)
          .where('signature_counter', '=', signatureCounter),
      )
      return row ? toLog(row) : undefined
    },
    async newestSignatureCounter(tssId) {
      const row = await first(db.selectFrom('de_tss').select('signature_counter').where('id', '=', tssId))
      return row?.signature_counter ?? 0
    },
    ...deSecretStore(database, first),
  }
}
