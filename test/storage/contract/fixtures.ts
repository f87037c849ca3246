import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type {
  ActionJournalRecord,
  NewCashbox,
  OperationRecord,
  QueueItemRecord,
  QueueWork,
  ReceiptJournalRecord,
  UnitOfWork,
} from '../../../src/core/ports.ts'
import { newTotalizers } from '../../../src/core/totalizers.ts'
import type { AccountRecord, TransactionRecord } from '../../../src/core/v1/model.ts'
import type { NewApiKey, NewLocation } from '../../../src/core/v1/ports.ts'
import type { Storage } from '../../../src/storage/database.ts'
import { cashboxRepository } from '../../../src/storage/repositories/cashboxes.ts'
import { createLedger } from '../../../src/storage/repositories/ledger.ts'
import { accountStore } from '../../../src/storage/repositories/v1-accounts.ts'

/** Fixtures shared by the suites: rows of other ports that a port's foreign keys point at. */

export const ACCOUNT_ID = '00000000-0000-4000-8000-00000000000a'
const BASE_MOMENT = Date.parse('2026-03-01T08:00:00.000Z')
/** Minute i after a fixed start: moments that sort as their index does. */
export const momentOf = (i: number) => new Date(BASE_MOMENT + i * 60_000).toISOString()
export const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1)

export function newCashbox(accountId = ACCOUNT_ID): NewCashbox & { queueId: string } {
  const id = randomUUID()
  const queueId = randomUUID()
  return {
    queueId,
    cashbox: {
      id,
      accountId,
      country: 'EU',
      label: `contract ${id.slice(0, 8)}`,
      accessTokenHash: 'f'.repeat(64),
      createdAt: new Date().toISOString(),
    },
    accountName: 'contract tests',
    queue: { id: queueId, countryCode: 0x4555, genesisHash: '0'.repeat(64), totalizers: newTotalizers() },
    key: { queueId, algorithm: 'test', publicKey: `public ${queueId}`, privateKeyEncrypted: 'sealed' },
  }
}

/** A cash box with its queue, written through the cash box port. */
export async function addCashbox(storage: Storage, accountId = ACCOUNT_ID) {
  const box = newCashbox(accountId)
  await cashboxRepository(storage).insert(box)
  return { id: box.cashbox.id, queueId: box.queueId, accountId }
}

export function queueItem(
  queueId: string,
  row: number,
  operationId: string,
  moment: string,
): QueueItemRecord {
  return {
    id: randomUUID(),
    queueId,
    row,
    operationId,
    cbReceiptReference: `ref-${row}`,
    cbTerminalId: row % 2 ? null : `terminal-${row}`,
    ftReceiptCase: '0x4555200000000001',
    cbReceiptMoment: moment,
    ftMoment: moment,
    request: JSON.stringify({ row }),
    requestHash: `request-${row}`,
    response: JSON.stringify({ ftQueueRow: row }),
    responseHash: `response-${row}`,
    ftState: '0x4555200000000000',
  }
}

export function receiptEntry(item: QueueItemRecord, number: number): ReceiptJournalRecord {
  return {
    id: randomUUID(),
    queueId: item.queueId,
    number,
    queueItemId: item.id,
    queueRow: item.row,
    moment: item.ftMoment,
    receiptCase: item.ftReceiptCase,
    total: `${number}.00`,
    requestHash: item.requestHash,
    responseHash: item.responseHash,
    previousHash: `hash-${number - 1}`,
    hash: `hash-${number}`,
  }
}

export function actionEntry(item: QueueItemRecord, number: number): ActionJournalRecord {
  return {
    id: randomUUID(),
    queueId: item.queueId,
    number,
    queueItemId: item.id,
    moment: item.ftMoment,
    type: 'test',
    message: `action ${number}`,
    data: '{}',
  }
}

export function operation(cashboxId: string, operationId: string, queueItemId: string): OperationRecord {
  return {
    cashboxId,
    operationId,
    kind: 'sign',
    requestHash: `request ${operationId}`,
    queueItemId,
    createdAt: new Date().toISOString(),
  }
}

/**
 * One receipt the way the sign service writes it: lock the queue, take the next row and number, write the
 * queue item, its journal entries and its operation, save the counters. `between` runs after the queue was
 * read and before anything is written: a database round trip there gives other units every chance to
 * interleave if the lock does not hold them off.
 */
export async function writeReceipt(
  work: QueueWork,
  box: { id: string; queueId: string },
  options: {
    operationId?: string
    between?: () => Promise<unknown>
    withAction?: boolean
    /** Told about the queue item as soon as it is written, before anything that may fail after it. */
    onItem?: (item: QueueItemRecord) => void
  } = {},
): Promise<QueueItemRecord> {
  const queue = await work.lockQueue(box.queueId)
  const operationId = options.operationId ?? randomUUID()
  await options.between?.()
  const row = queue.currentRow + 1
  const item = queueItem(box.queueId, row, operationId, momentOf(row))
  await work.insertQueueItem(item)
  options.onItem?.(item)
  const number = queue.receiptNumerator + 1
  await work.insertReceiptJournal(receiptEntry(item, number))
  if (options.withAction) {
    queue.actionNumerator += 1
    await work.insertActionJournal(actionEntry(item, queue.actionNumerator))
  }
  queue.currentRow = row
  queue.receiptNumerator = number
  queue.lastReceiptHash = `hash-${number}`
  await work.saveQueue(queue)
  await work.insertOperation(operation(box.id, operationId, item.id))
  return item
}

/** Runs `fn` inside a receipt's unit of work, as a market's repositories are called on the sign path. */
export function inUnit<T>(storage: Storage, fn: (unit: UnitOfWork) => Promise<T>): Promise<T> {
  return createLedger(storage).work((work) => fn(work.unit))
}

export const account = (extra: Partial<AccountRecord> = {}): AccountRecord => ({
  id: randomUUID(),
  name: 'Bäckerei',
  billingEmail: `${randomUUID()}@example.test`,
  createdAt: momentOf(0),
  ...extra,
})

export const apiKey = (accountId: string, extra: Partial<NewApiKey> = {}): NewApiKey => ({
  id: randomUUID(),
  accountId,
  environment: 'test',
  keyHint: 'sk_test_…abcd',
  name: 'default',
  createdAt: momentOf(0),
  revokedAt: null,
  keyHash: randomUUID(),
  ...extra,
})

export const location = (accountId: string, extra: Partial<NewLocation> = {}): NewLocation => ({
  id: randomUUID(),
  accountId,
  name: 'Shop',
  country: 'ES',
  countryConfig: { nif: 'B12345678', nested: { a: [1, 2] } },
  active: true,
  publicKey: 'public',
  createdAt: momentOf(0),
  deactivatedAt: null,
  privateKeyEncrypted: 'sealed',
  ...extra,
})

/** A v1 sale of a location, pending, as the transactions service stores it. */
export const transaction = (
  at: { accountId: string; locationId: string },
  extra: Partial<TransactionRecord> = {},
): TransactionRecord => ({
  id: randomUUID(),
  accountId: at.accountId,
  locationId: at.locationId,
  idempotencyKey: randomUUID(),
  requestHash: 'r'.repeat(64),
  type: 'sale',
  status: 'pending',
  amount: 1250,
  currency: 'EUR',
  country: 'ES',
  environment: 'test',
  requestPayload: { items: [{ name: 'café', cents: 1250 }] },
  responsePayload: null,
  fiscalId: null,
  errorMessage: null,
  originalTransactionId: null,
  submittedAt: null,
  completedAt: null,
  createdAt: momentOf(1),
  updatedAt: momentOf(1),
  ...extra,
})

/** An account with its first key, through the account port. */
export async function addAccount(storage: Storage) {
  const record = account()
  const created = await accountStore(storage).createAccount(record, apiKey(record.id))
  assert.ok(created)
  return record
}
