import type { TssAlgorithm } from './algorithms.ts'
import type { LogKind } from './log-message.ts'

export type TssState = 'CREATED' | 'UNINITIALIZED' | 'INITIALIZED' | 'DISABLED'
export type ClientState = 'REGISTERED' | 'DEREGISTERED'
export type TransactionState = 'ACTIVE' | 'FINISHED' | 'CANCELLED'
export type Metadata = Record<string, string>
/** A change to metadata: merged into what is there, and a null value removes its key (JSON merge patch). */
export type MetadataPatch = Record<string, string | null>

export function patchMetadata(current: Metadata, patch: MetadataPatch): Metadata {
  const merged: Metadata = { ...current }
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key]
    else merged[key] = value
  }
  return merged
}

/** Limits of BSI TR-03151 products as the SIGN DE API publishes them. */
export const MAX_CLIENTS = 199
export const MAX_ACTIVE_TRANSACTIONS = 2000
export const MAX_PIN_FAILURES = 5

export interface TssRecord {
  id: string
  organizationId: string
  env: string
  state: TssState
  description: string
  metadata: Metadata
  algorithm: TssAlgorithm
  /** base64 of the uncompressed point 04||X||Y */
  publicKey: string
  /** hex SHA-256 of the uncompressed point */
  serialNumber: string
  privateKeyEncrypted: string
  /** base64 DER of the TSS leaf certificate */
  certificate: string
  adminPukHash: string
  /** Sealed PUK, kept only while CREATED so that a retried create can show it again. */
  adminPukEncrypted: string | null
  /** null: no PIN set yet, i.e. blocked (as right after creation). */
  adminPinHash: string | null
  adminPinFailures: number
  adminSessionUntil: number | null
  signatureCounter: number
  transactionCounter: number
  numberRegisteredClients: number
  numberActiveTransactions: number
  lastLogTime: number
  timeCreation: number
  timeUninit: number | null
  timeInit: number | null
  timeDisable: number | null
}

export interface ClientRecord {
  id: string
  tssId: string
  serialNumber: string
  state: ClientState
  metadata: Metadata
  timeCreation: number
  timeUpdate: number
}

export interface TransactionRecord {
  tssId: string
  id: string
  number: number
  clientId: string
  state: TransactionState
  latestRevision: number
  /** 'standard_v1' or 'raw' once a revision carried data; a transaction keeps its kind. */
  schemaKind: string | null
  metadata: Metadata
  timeStart: number
  timeEnd: number | null
}

/** One revision of a transaction as answered (kept, so a retry and ?tx_revision=N get the same). */
export interface TransactionView {
  tssId: string
  tssSerialNumber: string
  id: string
  number: number
  revision: number
  state: TransactionState
  clientId: string
  clientSerialNumber: string
  timeStart: number
  timeEnd: number | null
  log: { operation: 'Start' | 'Update' | 'Finish'; timestamp: number }
  signature: { value: string; algorithm: TssAlgorithm; counter: number; publicKey: string }
  schema: unknown
  processType: string
  /** base64 */
  processData: string
  qrCodeData: string | null
}

export interface LogRecord {
  tssId: string
  signatureCounter: number
  kind: LogKind
  /** StartTransaction..., a system operation type, or 'audit' */
  operation: string
  logTime: number
  transactionNumber: number | null
  clientSerial: string | null
  message: Buffer
}

export type ExportState = 'PENDING' | 'WORKING' | 'COMPLETED' | 'CANCELLED' | 'ERROR'

export interface ExportFilters {
  clientId?: string
  transactionNumber?: number
  startTransactionNumber?: number
  endTransactionNumber?: number
  startDate?: number
  endDate?: number
  startSignatureCounter?: number
  endSignatureCounter?: number
  maximumNumberRecords: number
}

export interface ExportRecord {
  tssId: string
  id: string
  state: ExportState
  filters: ExportFilters
  exception: string | null
  /** The newest signature counter at the time the export ran: the file never grows afterwards. */
  uptoSignatureCounter: number | null
  recordCount: number | null
  metadata: Metadata
  timeRequest: number
  timeStart: number | null
  timeEnd: number | null
  timeExpiration: number | null
}

/** What an export streams: log messages selected by the filters, oldest first, with the client serial filter resolved. */
export interface LogSelection {
  tssId: string
  uptoSignatureCounter: number
  filters: ExportFilters
  /** Resolved from filters.clientId */
  clientSerial?: string
}

export interface ListQuery {
  limit: number
  offset: number
  order: 'asc' | 'desc'
  orderBy?: string
  states?: string[]
}
