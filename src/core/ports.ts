import type { Totalizers } from './totalizers.ts'

/** What the core needs from storage. storage/ implements these with Kysely; the core never sees SQL. */
export interface QueueState {
  id: string
  cashboxId: string
  countryCode: number
  currentRow: number
  receiptNumerator: number
  actionNumerator: number
  lastReceiptHash: string
  startMoment: string | null
  stopMoment: string | null
  totalizers: Totalizers
  /** Opaque to the core: the market's own state for this queue (e.g. a turnover counter), or null. */
  marketState: string | null
  /** The receipt whose external unit call is under way (or was, before a crash): it blocks the queue. */
  reservation: Reservation | null
}

/**
 * A receipt's place in the queue, taken and committed before its external unit is called: the row, number
 * and moment are fixed, and no other receipt of the queue commits until it is completed or released.
 */
export interface Reservation {
  /** Unique per reservation, the unit's idempotency key. */
  key: string
  operationId: string
  cashboxId: string
  queueRow: number
  receiptNumber: number
  queueItemId: string
  moment: string
  requestText: string
  requestHash: string
  /** What seal() asked of the unit. */
  unitRequest: string
  /** The process that made it, and until when it may still be completing it (epoch ms). */
  owner: string
  leaseUntil: number
}

/**
 * The storage transaction a unit of work runs in, opaque to the core. A market that keeps tables of its
 * own (e.g. a TSS log) opens it with storage's transactionOf() to write in the same commit as the receipt.
 */
export type UnitOfWork = { readonly __unitOfWork: unique symbol }

export interface QueueItemRecord {
  id: string
  queueId: string
  row: number
  operationId: string
  cbReceiptReference: string
  cbTerminalId: string | null
  ftReceiptCase: string
  cbReceiptMoment: string
  ftMoment: string
  request: string
  requestHash: string
  response: string
  responseHash: string
  ftState: string
}

export interface ReceiptJournalRecord {
  id: string
  queueId: string
  number: number
  queueItemId: string
  queueRow: number
  moment: string
  receiptCase: string
  total: string
  requestHash: string
  responseHash: string
  previousHash: string
  hash: string
}

export interface ActionJournalRecord {
  id: string
  queueId: string
  number: number
  queueItemId: string | null
  moment: string
  type: string
  message: string
  data: string
}

export interface OperationRecord {
  cashboxId: string
  operationId: string
  kind: string
  requestHash: string
  queueItemId: string
  createdAt: string
}

/** One queue's serialized unit of work: everything written here commits together or not at all. */
export interface QueueWork {
  readonly unit: UnitOfWork
  lockQueue(queueId: string): Promise<QueueState>
  findOperation(cashboxId: string, operationId: string): Promise<OperationRecord | undefined>
  insertQueueItem(item: QueueItemRecord): Promise<void>
  insertReceiptJournal(entry: ReceiptJournalRecord): Promise<void>
  insertActionJournal(entry: ActionJournalRecord): Promise<void>
  insertOperation(operation: OperationRecord): Promise<void>
  saveQueue(state: QueueState): Promise<void>
}

export interface Ledger {
  /** Whether other processes may write the same queues (PostgreSQL with several nodes), or only this one. */
  readonly sharedByNodes: boolean
  work<T>(fn: (work: QueueWork) => Promise<T>): Promise<T>
  /** Queues holding a reservation, to recover at start-up. */
  reservedQueues(): Promise<Array<{ queueId: string; countryCode: number }>>
  findOperation(cashboxId: string, operationId: string): Promise<OperationRecord | undefined>
  queueItemResponse(queueItemId: string): Promise<string | undefined>
}

export interface CashboxRecord {
  id: string
  accountId: string
  country: string
  label: string
  accessTokenHash: string
  createdAt: string
  queueId: string
}

export interface SigningKeyRecord {
  queueId: string
  algorithm: string
  publicKey: string
  privateKeyEncrypted: string
}

export interface NewCashbox {
  cashbox: Omit<CashboxRecord, 'queueId'>
  accountName: string
  queue: { id: string; countryCode: number; genesisHash: string; totalizers: Totalizers }
  key: SigningKeyRecord
}

export interface CashboxStore {
  insert(cashbox: NewCashbox): Promise<void>
  find(id: string): Promise<CashboxRecord | undefined>
  list(): Promise<CashboxRecord[]>
  signingKey(queueId: string): Promise<SigningKeyRecord | undefined>
}

/** A terminal paired with a cash box (core/terminals.ts). */
export interface TerminalRecord {
  cashboxId: string
  terminalId: string
  description: string
  pairedAt: string
}

export interface TerminalStore {
  /** Stores the pairing unless the cash box has this terminal already (then it writes nothing). */
  insert(terminal: TerminalRecord): Promise<void>
  find(cashboxId: string, terminalId: string): Promise<TerminalRecord | undefined>
  /** The cash box's terminals in the order they were paired. */
  list(cashboxId: string): Promise<TerminalRecord[]>
  count(cashboxId: string): Promise<number>
}
