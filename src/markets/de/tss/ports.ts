import type { UnitOfWork } from '../../../core/ports.ts'
import type {
  ClientRecord,
  ExportRecord,
  ListQuery,
  LogRecord,
  LogSelection,
  TransactionRecord,
  TssRecord,
} from './model.ts'

/** Storage work inside one transaction. lockTss is the TSS's serialization point (row lock on PostgreSQL). */
export interface TssWork {
  lockTss(id: string): Promise<TssRecord | undefined>
  /** false when the id exists already */
  insertTss(tss: TssRecord): Promise<boolean>
  saveTss(tss: TssRecord): Promise<void>
  findClient(id: string): Promise<ClientRecord | undefined>
  findClientBySerial(tssId: string, serialNumber: string): Promise<ClientRecord | undefined>
  insertClient(client: ClientRecord): Promise<void>
  saveClient(client: ClientRecord): Promise<void>
  findTransaction(tssId: string, id: string): Promise<TransactionRecord | undefined>
  insertTransaction(tx: TransactionRecord): Promise<void>
  saveTransaction(tx: TransactionRecord): Promise<void>
  findRevision(
    tssId: string,
    txId: string,
    revision: number,
  ): Promise<{ requestHash: string; response: string } | undefined>
  insertRevision(
    tssId: string,
    txId: string,
    revision: number,
    requestHash: string,
    response: string,
  ): Promise<void>
  insertLog(log: LogRecord): Promise<void>
  findExport(tssId: string, id: string): Promise<ExportRecord | undefined>
  insertExport(record: ExportRecord): Promise<void>
  saveExport(record: ExportRecord): Promise<void>
  countOpenExports(tssId: string): Promise<number>
}

export interface Page<T> {
  data: T[]
  count: number
}

export interface TssStore extends InstallationSecrets {
  /** A durable transaction of its own (answer only after it resolves). */
  run<T>(work: (store: TssWork) => Promise<T>): Promise<T>
  /** The same work inside another unit of work (a receipt's), committed with it. */
  within(unit: UnitOfWork): TssWork
  getTss(id: string): Promise<TssRecord | undefined>
  listTss(organizationId: string, query: ListQuery): Promise<Page<TssRecord>>
  /** Every TSS that is not disabled, of every organization: their certificates' expiry is watched. */
  tssInService(): Promise<Pick<TssRecord, 'id' | 'organizationId' | 'certificate'>[]>
  getClient(id: string): Promise<ClientRecord | undefined>
  listClients(
    filter: { organizationId: string; tssId?: string },
    query: ListQuery,
  ): Promise<Page<ClientRecord>>
  getTransaction(tssId: string, idOrNumber: string): Promise<TransactionRecord | undefined>
  getRevisionResponse(tssId: string, txId: string, revision: number): Promise<string | undefined>
  listTransactions(
    filter: { organizationId: string; tssId?: string; clientId?: string },
    query: ListQuery,
  ): Promise<Page<TransactionRecord>>
  getExport(tssId: string, id: string): Promise<ExportRecord | undefined>
  listExports(
    filter: { organizationId: string; tssId?: string },
    query: ListQuery,
  ): Promise<Page<ExportRecord>>
  countLogs(selection: LogSelection): Promise<number>
  /** The selected log messages in signature counter order, read in pages: memory stays bounded. */
  streamLogs(selection: LogSelection): AsyncIterable<LogRecord>
  findLogByCounter(tssId: string, signatureCounter: number): Promise<LogRecord | undefined>
  newestSignatureCounter(tssId: string): Promise<number>
}

/** Installation secrets (certificate authorities, token key), created once across nodes. */
export interface InstallationSecrets {
  secret(name: string): Promise<{ publicPart: string; sealed: string } | undefined>
  putSecretIfAbsent(
    name: string,
    publicPart: string,
    sealed: string,
  ): Promise<{ publicPart: string; sealed: string }>
}
