import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import { countryCode } from '../../../core/case-codes.ts'
import { GENESIS_HASH } from '../../../core/journal-chain.ts'
import type { FiscalInput } from '../../../core/v1/fiscalizer.ts'
import { locationCashboxId, locationQueueId, settingsOf } from '../../../core/v1/location-cashboxes.ts'
import { receiptRecordText } from '../../../core/v1/market-signed.ts'
import type { Environment } from '../../../core/v1/model.ts'
import { receiptOfTransaction } from '../../../core/v1/receipt-of-transaction.ts'
import type { ReceiptRequestBody } from '../../../core/receipt.ts'
import { newTotalizers } from '../../../core/totalizers.ts'
import { locationEsConfig } from '../cashbox/configuration.ts'
import { ES_SUBMIT_JOB, jobSubject } from '../cashbox/ports.ts'
import type { SpainDocument, SpainState } from '../documents.ts'

/**
 * Spanish locations of the transactions API v1 written by a version before the one Spanish pipeline (its
 * fiscalizers `es-verifactu` and `es-ticketbai` kept each document in the location's v1 record and
 * submitted it with a `fiscalize` job) become what the ES market makes of a location today
 * (docs/country-es.md, "Upgrading from a version before the one pipeline"):
 * - each location gets its cash box per environment, configured from its country_config;
 * - each document becomes a record of that cash box (seq = its number in the location's chain, same
 *   document, its status as the authority answered or pending), so that an invoice can still be cancelled
 *   and the cash box's chain, exports and checks start at the location's first document;
 * - each open `fiscalize` job (pending, failed, processing, dead) becomes the record's `es-pos-submit` job,
 *   due now unless a batch window holds it: the outbox sends the old records in chain order, before any new
 *   record of the chain, and settles their transactions as before. A record that may have reached the
 *   authority is looked up before it is sent again (sent_at);
 * - the chain row's state (the SpainState: next number and chain) goes on as the market's state, with the
 *   position of the cash box's last record;
 * - the location's v1 records hold the receipt each transaction became, as the market's records do, so
 *   that a cancellation finds the receipt of the invoice it cancels.
 */

interface LocationRow {
  id: string
  account_id: string
  name: string
  country_config: string
  public_key: string
  private_key_encrypted: string
  created_at: string
}

interface RecordRow {
  transaction_id: string
  sequence: number | string
  record: string
  created_at: string
  type: string
  request_payload: string
  response_payload: string | null
  original_transaction_id: string | null
  submitted_at: string | null
  t_created_at: string
}

interface JobRow {
  id: string
  subject_id: string
  status: string
  attempts: number
  reconcile: number
  batch_window: string | null
  updated_at: string
}

// Migrations take Kysely<unknown>: these are the tables as this migration reads and writes them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the row types above are applied where each table is read
type Db = Kysely<any>

const OLD_FISCALIZERS = ['es-verifactu', 'es-ticketbai']
const ENVIRONMENTS: readonly Environment[] = ['test', 'live']
const ES = countryCode('ES')
const OPEN_JOBS = ['pending', 'failed', 'processing', 'dead']

/** The old fiscalizer's record text: the document as issued. */
function documentOf(row: RecordRow): SpainDocument {
  const parsed = JSON.parse(row.record) as { format?: string; document?: SpainDocument }
  if (parsed.format !== 'fiscalbox-es-v1' || !parsed.document)
    throw new Error(`the v1 record of transaction ${row.transaction_id} is not a Spanish record of fiscalbox`)
  return parsed.document
}

/** The record's status in the cash box, from its submission job and the answer its transaction keeps. */
function statusOf(row: RecordRow, job: JobRow | undefined): string {
  const answer = (JSON.parse(row.response_payload ?? 'null') as { authority?: { status?: unknown } } | null)
    ?.authority?.status
  if (job?.status === 'dead') return answer === 'rejected' ? 'rejected' : 'failed_permanent'
  if (job && job.status !== 'completed') return 'pending'
  return answer === 'accepted_with_errors' ? 'accepted_with_errors' : 'accepted'
}

/** The authority's answer as the cash box's record keeps it (without the status, a column of its own). */
function authorityOf(row: RecordRow): string | null {
  const payload = JSON.parse(row.response_payload ?? 'null') as { authority?: Record<string, unknown> } | null
  if (!payload?.authority) return null
  const authority = { ...payload.authority }
  delete authority.status
  return JSON.stringify(authority)
}

/** F1 for a full invoice (the customer's NIF given), F2 for a simplified one, as the market numbers them. */
function invoiceTypeOf(document: SpainDocument, request: Record<string, unknown>): string | null {
  const value = document.record.value
  if (value.kind === 'anulacion') return null
  if (document.record.system === 'verifactu' && 'invoiceType' in value) return value.invoiceType
  const customer = request.customer_context as Record<string, unknown> | undefined
  return typeof customer?.nif === 'string' ? 'F1' : 'F2'
}

/**
 * The receipt the transaction became, as the location's v1 record holds it today. The old fiscalizer refused
 * a sale whose items did not add up to its totals, as the receipt does.
 */
function receiptOf(row: RecordRow, receipts: Map<string, ReceiptRequestBody>): ReceiptRequestBody {
  const request = JSON.parse(row.request_payload) as Record<string, unknown>
  const input = {
    transactionId: row.transaction_id,
    type: row.type,
    timestamp: row.type === 'sale' ? String(request.timestamp) : row.t_created_at,
    request,
  } as FiscalInput
  const original = row.original_transaction_id ? receipts.get(row.original_transaction_id) : undefined
  try {
    return receiptOfTransaction(input, ES, original)
  } catch (error) {
    throw new Error(
      `transaction ${row.transaction_id} cannot be upgraded: ${(error as Error).message} (${JSON.stringify((error as { details?: unknown }).details ?? {})})`,
    )
  }
}

/** The location's cash box of one environment, as core/cashboxes.ts makes it, with the location's own key. */
async function insertCashbox(db: Db, location: LocationRow, environment: Environment, at: string) {
  const id = locationCashboxId(location.id, environment)
  const queueId = locationQueueId(location.id, environment)
  await db
    .insertInto('cashboxes')
    .values({
      id,
      account_id: location.account_id,
      country: 'ES',
      label: `${location.name} (${environment})`,
      // No token is ever shown for a location's cash box: a random hash that no token has.
      access_token_hash: randomBytes(32).toString('hex'),
      created_at: at,
    })
    .execute()
  await db
    .insertInto('queues')
    .values({
      id: queueId,
      cashbox_id: id,
      country_code: ES,
      current_row: 0,
      receipt_numerator: 0,
      action_numerator: 0,
      last_receipt_hash: GENESIS_HASH,
      start_moment: null,
      stop_moment: null,
      totalizers: JSON.stringify(newTotalizers()),
      created_at: at,
    })
    .execute()
  // A migration has no master key (nor token) to make a key with: the queue signs with the location's own
  // P-256 key, sealed by the same master key in the same form as a queue's.
  await db
    .insertInto('signing_keys')
    .values({
      queue_id: queueId,
      algorithm: 'ECDSA-P256-SHA256',
      public_key: location.public_key,
      private_key_encrypted: location.private_key_encrypted,
      created_at: at,
    })
    .execute()
  const settings = settingsOf(JSON.parse(location.country_config) as Record<string, unknown>, environment)
  const config = locationEsConfig(id, settings, { locationId: location.id, name: location.name, environment })
  await db
    .insertInto('es_cashboxes')
    .values({ queue_id: queueId, config: JSON.stringify(config), updated_at: at })
    .execute()
  return queueId
}

async function upgradeChain(db: Db, location: LocationRow, environment: Environment, at: string) {
  const queueId = await insertCashbox(db, location, environment, at)
  const rows = (await db
    .selectFrom('fiscal_records as r')
    .innerJoin('transactions as t', 't.id', 'r.transaction_id')
    .select([
      'r.transaction_id',
      'r.sequence',
      'r.record',
      'r.created_at',
      't.type',
      't.request_payload',
      't.response_payload',
      't.original_transaction_id',
      't.submitted_at',
      't.created_at as t_created_at',
    ])
    .where('r.location_id', '=', location.id)
    .where('r.environment', '=', environment)
    .where('r.fiscalizer', 'in', OLD_FISCALIZERS)
    .orderBy('r.sequence')
    .execute()) as RecordRow[]
  if (rows.length === 0) return
  const jobs = new Map(
    (
      (await db
        .selectFrom('jobs')
        .select(['id', 'subject_id', 'status', 'attempts', 'reconcile', 'batch_window', 'updated_at'])
        .where('kind', '=', 'fiscalize')
        .where('group_key', '=', `${location.id}:${environment}`)
        .execute()) as JobRow[]
    ).map((job) => [job.subject_id, job]),
  )
  const receipts = new Map<string, ReceiptRequestBody>()
  const now = Date.now()
  let seq = 0
  for (const row of rows) {
    seq = Number(row.sequence)
    const document = documentOf(row)
    const job = jobs.get(row.transaction_id)
    const request = JSON.parse(row.request_payload) as Record<string, unknown>
    // Any attempt may have reached the authority: the record is looked up before it is sent again.
    const mayHaveReached =
      job !== undefined && (job.attempts > 0 || job.reconcile === 1 || job.status !== 'pending')
    await db
      .insertInto('es_records')
      .values({
        queue_id: queueId,
        seq,
        queue_row: seq,
        receipt_reference: row.transaction_id,
        invoice_number: document.invoiceNumber,
        kind: document.record.value.kind,
        invoice_type: invoiceTypeOf(document, request),
        document: JSON.stringify(document),
        status: statusOf(row, job),
        authority: authorityOf(row),
        sent_at: mayHaveReached ? job.updated_at : row.submitted_at,
        created_at: row.created_at,
        updated_at: at,
      })
      .execute()
    const receipt = receiptOf(row, receipts)
    receipts.set(row.transaction_id, receipt)
    await db
      .updateTable('fiscal_records')
      .set({ record: receiptRecordText(receipt), fiscalizer: 'market:ES' })
      .where('transaction_id', '=', row.transaction_id)
      .execute()
    if (job && OPEN_JOBS.includes(job.status))
      await db
        .updateTable('jobs')
        .set({
          kind: ES_SUBMIT_JOB,
          subject_id: jobSubject(queueId, seq),
          group_key: queueId,
          // A job under way when the old process stopped is no longer: the new one starts it over.
          status: job.status === 'processing' ? 'pending' : job.status,
          locked_by: null,
          locked_until: null,
          reconcile: 0,
          ...(job.batch_window === null && job.status !== 'dead' ? { run_at: now } : {}),
          updated_at: at,
        })
        .where('id', '=', job.id)
        .execute()
  }
  const chain = await db
    .selectFrom('fiscal_chains')
    .select('state')
    .where('location_id', '=', location.id)
    .where('environment', '=', environment)
    .executeTakeFirstOrThrow()
  const spain = JSON.parse(chain.state as string) as SpainState
  await db
    .updateTable('fiscal_chains')
    .set({ state: JSON.stringify({ v: 1, seq, spain }) })
    .where('location_id', '=', location.id)
    .where('environment', '=', environment)
    .execute()
}

export async function up(untyped: Kysely<unknown>): Promise<void> {
  const db = untyped as Db
  const at = new Date().toISOString()
  const locations = (await db
    .selectFrom('locations')
    .select([
      'id',
      'account_id',
      'name',
      'country_config',
      'public_key',
      'private_key_encrypted',
      'created_at',
    ])
    .where('country', '=', 'ES')
    .orderBy('created_at')
    .execute()) as LocationRow[]
  for (const location of locations)
    for (const environment of ENVIRONMENTS) {
      const existing = await db
        .selectFrom('cashboxes')
        .select('id')
        .where('id', '=', locationCashboxId(location.id, environment))
        .executeTakeFirst()
      if (!existing) await upgradeChain(db, location, environment, at)
    }
}

export async function down(): Promise<void> {
  throw new Error(
    'the Spanish locations were upgraded to the one pipeline: restore the backup taken before to go back',
  )
}
