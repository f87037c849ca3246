import type SqliteDatabase from 'better-sqlite3'
import type { Kysely, Selectable } from 'kysely'
import type { UnitOfWork } from '../../../core/ports.ts'
import type { Count, ModuleDatabase } from '../../module.ts'
import { WAITING_FOR_RECORD } from '../../../core/delivery.ts'
import type { SpainDocument } from '../documents.ts'
import {
  ES_SUBMIT_JOB,
  type EsCashboxConfig,
  type EsRecord,
  type EsRecordStatus,
  type EsStore,
  jobSubject,
  parseJobSubject,
} from './ports.ts'

// Spain's tables of /v2/sign (migrations 010-es-market, 015-es-records-pending) and the EsStore on them.

/** Spain on /v2/sign: an ES cash box's configuration (JSON, see markets/es/cashbox/configuration.ts). */
export interface EsCashboxTable {
  queue_id: string
  config: string
  updated_at: string
}

/** A Spanish record of a /v2/sign receipt (document: the SpainDocument JSON) and its submission status. */
export interface EsRecordTable {
  queue_id: string
  seq: Count
  queue_row: Count
  receipt_reference: string
  invoice_number: string
  kind: string
  invoice_type: string | null
  document: string
  status: string
  authority: string | null
  sent_at: string | null
  created_at: string
  updated_at: string
}

export interface EsTables {
  es_cashboxes: EsCashboxTable
  es_records: EsRecordTable
}

const toRecord = (row: Selectable<EsRecordTable>): EsRecord => ({
  queueId: row.queue_id,
  seq: Number(row.seq),
  queueRow: Number(row.queue_row),
  receiptReference: row.receipt_reference,
  invoiceNumber: row.invoice_number,
  kind: row.kind as EsRecord['kind'],
  invoiceType: row.invoice_type,
  document: JSON.parse(row.document) as SpainDocument,
  status: row.status as EsRecordStatus,
  authority: row.authority === null ? null : (JSON.parse(row.authority) as Record<string, unknown>),
  sentAt: row.sent_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
})

const configOf = (db: Kysely<EsTables>, queueId: string) =>
  db
    .selectFrom('es_cashboxes')
    .select('config')
    .where('queue_id', '=', queueId)
    .executeTakeFirst()
    .then((row) => (row ? (JSON.parse(row.config) as EsCashboxConfig) : undefined))

/** Spain on /v2/sign: cash box configurations, records and their submission jobs. */
export function esCashboxStore(database: ModuleDatabase<EsTables>): EsStore {
  const { db, sqlite, outbox } = database
  let sqliteInsert: SqliteDatabase.Statement | undefined
  let sqliteStatus: SqliteDatabase.Statement | undefined
  let sqliteReads: { writer: SubmissionReads; reader: SubmissionReads } | undefined
  /**
   * The reads each submission makes, on SQLite as statements prepared once (Kysely builds, compiles and
   * prepares each query anew), on the connection the ledger reads from: the writer when it has no
   * transaction open, else the read-only one, which sees only committed work and does not wait for the
   * group commit's transaction.
   */
  const submissionReads = (): SubmissionReads | undefined => {
    if (!sqlite) return undefined
    sqliteReads ??= { writer: prepareReads(sqlite.writer), reader: prepareReads(sqlite.reader) }
    return sqlite.writer.inTransaction ? sqliteReads.reader : sqliteReads.writer
  }
  return {
    async config(queueId) {
      const reads = submissionReads()
      if (!reads) return configOf(db, queueId)
      const row = reads.config.get(queueId)
      return row ? (JSON.parse(row.config) as EsCashboxConfig) : undefined
    },
    async saveConfig(queueId, config, at) {
      const text = JSON.stringify(config)
      // One statement decides: a cash box with records keeps the configuration they were made with.
      const result = await db
        .insertInto('es_cashboxes')
        .values({ queue_id: queueId, config: text, updated_at: at })
        .onConflict((oc) =>
          oc
            .column('queue_id')
            .doUpdateSet({ config: text, updated_at: at })
            .where((eb) =>
              eb.not(eb.exists(eb.selectFrom('es_records').select('seq').where('queue_id', '=', queueId))),
            ),
        )
        .executeTakeFirst()
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0
    },
    async records(queueId, query) {
      let select = db
        .selectFrom('es_records')
        .selectAll()
        .where('queue_id', '=', queueId)
        .where('seq', '>', query.afterSeq)
      if (query.status) select = select.where('status', '=', query.status)
      if (query.queueRow !== undefined) select = select.where('queue_row', '=', query.queueRow)
      return (await select.orderBy('seq').limit(query.limit).execute()).map(toRecord)
    },
    async heldOf(queueId, seqs, now) {
      const subjects = seqs.map((seq) => jobSubject(queueId, seq))
      const held = await outbox.heldFor(ES_SUBMIT_JOB, subjects, now)
      return new Map([...held].map(([subject, hold]) => [parseJobSubject(subject).seq, hold]))
    },
    async recordsBySeq(queueId, seqs) {
      if (seqs.length === 0) return []
      const reads = submissionReads()
      if (reads) return reads.bySeq.all(queueId, JSON.stringify(seqs)).map(toRecord)
      const rows = await db
        .selectFrom('es_records')
        .selectAll()
        .where('queue_id', '=', queueId)
        .where('seq', 'in', [...seqs])
        .orderBy('seq')
        .execute()
      return rows.map(toRecord)
    },
    async pendingBelow(queueId, seq, limit) {
      const reads = submissionReads()
      if (reads) return reads.pendingBelow.all(queueId, seq, limit).map((r) => Number(r.seq))
      const rows = await db
        .selectFrom('es_records')
        .select('seq')
        .where('queue_id', '=', queueId)
        .where('status', '=', 'pending')
        .where('seq', '<', seq)
        .orderBy('seq')
        .limit(limit)
        .execute()
      return rows.map((r) => Number(r.seq))
    },
    openSubmission: (queueId, seq) => outbox.openJob(ES_SUBMIT_JOB, jobSubject(queueId, seq)),
    releaseSubmissions: (queueId, now) =>
      outbox.releaseGroup(ES_SUBMIT_JOB, queueId, WAITING_FOR_RECORD, now),
    configIn: (unit, queueId) => configOf(database.transactionOf(unit), queueId),
    accountOfIn: (unit: UnitOfWork, queueId) => database.accountOfQueueIn(unit, queueId),
    async invoiceOfReferenceIn(unit, queueId, receiptReference) {
      const trx = database.transactionOf(unit)
      const row = await trx
        .selectFrom('es_records')
        .selectAll()
        .where('queue_id', '=', queueId)
        .where('receipt_reference', '=', receiptReference)
        .where('kind', '=', 'alta')
        .executeTakeFirst()
      if (!row) return undefined
      const cancellation = await trx
        .selectFrom('es_records')
        .select('seq')
        .where('queue_id', '=', queueId)
        .where('invoice_number', '=', row.invoice_number)
        .where('kind', '=', 'anulacion')
        .executeTakeFirst()
      return { invoice: toRecord(row), cancelled: cancellation !== undefined }
    },
    async insertRecordIn(unit, record, job) {
      const writer = database.sqlite?.writer
      if (writer?.inTransaction) {
        sqliteInsert ??= writer.prepare(INSERT_RECORD_SQL)
        sqliteInsert.run(
          record.queueId,
          record.seq,
          record.queueRow,
          record.receiptReference,
          record.invoiceNumber,
          record.kind,
          record.invoiceType,
          JSON.stringify(record.document),
          record.createdAt,
          record.createdAt,
        )
      } else {
        await database
          .transactionOf(unit)
          .insertInto('es_records')
          .values({
            queue_id: record.queueId,
            seq: record.seq,
            queue_row: record.queueRow,
            receipt_reference: record.receiptReference,
            invoice_number: record.invoiceNumber,
            kind: record.kind,
            invoice_type: record.invoiceType,
            document: JSON.stringify(record.document),
            status: 'pending',
            authority: null,
            sent_at: null,
            created_at: record.createdAt,
            updated_at: record.createdAt,
          })
          .execute()
      }
      await outbox.enqueueIn(unit, {
        id: job.id,
        accountId: job.accountId,
        kind: ES_SUBMIT_JOB,
        subjectId: jobSubject(record.queueId, record.seq),
        groupKey: record.queueId,
        maxAttempts: job.maxAttempts,
        runAt: job.runAt,
        ...(job.batchWindow ? { batchWindow: job.batchWindow } : {}),
        createdAt: record.createdAt,
      })
    },
    async markSent(queueId, seqs, at) {
      await db
        .updateTable('es_records')
        .set({ sent_at: at })
        .where('queue_id', '=', queueId)
        .where('seq', 'in', [...seqs])
        .where('sent_at', 'is', null)
        .execute()
    },
    async unmarkSent(queueId, seqs, at) {
      if (seqs.length === 0) return
      await db
        .updateTable('es_records')
        .set({ sent_at: null })
        .where('queue_id', '=', queueId)
        .where('seq', 'in', [...seqs])
        .where('sent_at', '=', at)
        .execute()
    },
    setStatus: (queueId, seq, status, authority) =>
      setStatusOf(db, queueId, seq, status, authority, 'pending'),
    async recordIn(unit, queueId, seq) {
      const row = await database
        .transactionOf(unit)
        .selectFrom('es_records')
        .selectAll()
        .where('queue_id', '=', queueId)
        .where('seq', '=', seq)
        .executeTakeFirst()
      return row && toRecord(row)
    },
    async setStatusIn(unit, queueId, seq, status, authority, onlyFrom) {
      const writer = database.sqlite?.writer
      // Every record the outbox submits ends with this update, in its job's end: prepared on SQLite.
      if (writer?.inTransaction) {
        sqliteStatus ??= writer.prepare(STATUS_SQL)
        sqliteStatus.run({
          status,
          authority: authority === undefined ? null : JSON.stringify(authority),
          updatedAt: new Date().toISOString(),
          queueId,
          seq,
          onlyFrom: onlyFrom ?? null,
        })
        return
      }
      await setStatusOf(database.transactionOf(unit), queueId, seq, status, authority, onlyFrom)
    },
  }
}

/**
 * The receipt's record as a statement prepared once on SQLite's writing connection (as the ledger's rows):
 * Kysely builds, compiles and prepares each query anew, which the profile of /v2/sign showed as the largest
 * cost Spain adds to a receipt. Same columns and values as the Kysely path. Prepared on first use, after the
 * migrations have made the table.
 */
const INSERT_RECORD_SQL = `insert into es_records (queue_id, seq, queue_row, receipt_reference, invoice_number,
    kind, invoice_type, document, status, authority, sent_at, created_at, updated_at)
  values (?, ?, ?, ?, ?, ?, ?, ?, 'pending', null, null, ?, ?)`

type SubmissionReads = ReturnType<typeof prepareReads>

/** The Kysely queries of config, recordsBySeq and pendingBelow; the seqs of recordsBySeq as one JSON array. */
function prepareReads(connection: SqliteDatabase.Database) {
  return {
    config: connection.prepare<[string], { config: string }>(
      'select config from es_cashboxes where queue_id = ?',
    ),
    bySeq: connection.prepare<[string, string], Selectable<EsRecordTable>>(
      `select * from es_records where queue_id = ? and seq in (select value from json_each(?)) order by seq`,
    ),
    pendingBelow: connection.prepare<[string, number, number], { seq: number }>(
      `select seq from es_records where queue_id = ? and status = 'pending' and seq < ? order by seq limit ?`,
    ),
  }
}

/** setStatusOf's update as one statement: a null authority keeps the stored one, a null onlyFrom any status. */
const STATUS_SQL = `update es_records set status = @status, authority = coalesce(@authority, authority),
    updated_at = @updatedAt
  where queue_id = @queueId and seq = @seq and (@onlyFrom is null or status = @onlyFrom)`

async function setStatusOf(
  db: Kysely<EsTables>,
  queueId: string,
  seq: number,
  status: EsRecordStatus,
  authority: Record<string, unknown> | undefined,
  onlyFrom: EsRecordStatus | undefined,
): Promise<void> {
  let update = db
    .updateTable('es_records')
    .set({
      status,
      ...(authority === undefined ? {} : { authority: JSON.stringify(authority) }),
      updated_at: new Date().toISOString(),
    })
    .where('queue_id', '=', queueId)
    .where('seq', '=', seq)
  if (onlyFrom) update = update.where('status', '=', onlyFrom)
  await update.execute()
}
