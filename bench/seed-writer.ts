import { parentPort, workerData } from 'node:worker_threads'
import SqliteDatabase from 'better-sqlite3'
import type { OperationRecord, QueueItemRecord, QueueState, ReceiptJournalRecord } from '../src/core/ports.ts'
import { SqliteStatements } from '../src/storage/repositories/ledger.ts'

/**
 * The writing half of bench/seed-history.ts, in a worker thread: it inserts the rows the main thread makes
 * with the server's own prepared statements (storage/repositories/ledger.ts), in large transactions, while
 * the main thread signs the next receipts.
 */
export type WriterMessage =
  | {
      type: 'rows'
      items: QueueItemRecord[]
      receipts: ReceiptJournalRecord[]
      operations: OperationRecord[]
    }
  | { type: 'finish'; queue: QueueState }

export type WriterReply = { type: 'written'; receipts: number } | { type: 'finished' }

const TRANSACTION_RECEIPTS = 20_000

const { file } = workerData as { file: string }
const db = new SqliteDatabase(file)
db.pragma('journal_mode = WAL')
db.pragma('foreign_keys = ON')
db.pragma('temp_store = MEMORY')
// Only this connection writes while seeding: a large page cache keeps the growing indexes in memory.
db.pragma('cache_size = -1048576')
const work = new SqliteStatements(db).work
let inTransaction = 0
db.exec('begin')

const port = parentPort
if (!port) throw new Error('seed-writer runs as a worker thread of bench/seed-history.ts')
port.on('message', (message: WriterMessage) => {
  void (async () => {
    if (message.type === 'rows') {
      for (let i = 0; i < message.items.length; i++) {
        await work.insertQueueItem(message.items[i] as QueueItemRecord)
        await work.insertReceiptJournal(message.receipts[i] as ReceiptJournalRecord)
        await work.insertOperation(message.operations[i] as OperationRecord)
      }
      inTransaction += message.items.length
      if (inTransaction >= TRANSACTION_RECEIPTS) {
        db.exec('commit')
        db.exec('begin')
        inTransaction = 0
      }
      port.postMessage({ type: 'written', receipts: message.items.length } satisfies WriterReply)
    } else {
      await work.saveQueue(message.queue)
      db.exec('commit')
      // Fold the WAL into the database file, so that the server starts as it would after a quiet night.
      db.pragma('wal_checkpoint(TRUNCATE)')
      db.close()
      port.postMessage({ type: 'finished' } satisfies WriterReply)
    }
  })()
})
