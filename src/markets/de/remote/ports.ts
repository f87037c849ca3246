import type { UnitOfWork } from '../../../core/ports.ts'

/** A DE cash box's remote TSE as stored: the secret and the admin PIN sealed by the master key. */
export interface RemoteTseRecord {
  queueId: string
  baseUrl: string
  apiKey: string
  apiSecretSealed: string
  /** Sealed; only when fiscalbox set the PIN itself (it created the TSS), for the operator's later admin tasks. */
  adminPinSealed: string | null
  tssId: string
  clientId: string
  clientSerial: string
  /** What the TSE said of itself at set-up, for DSFinV-K's tse.csv and /de/v1/tss. */
  tssSerial: string
  publicKey: string
  algorithm: string
  /** PEM of the TSS certificate */
  certificate: string
  timeoutMs: number
  updatedAt: string
}

/** A TAR export pulled from the remote TSE. */
export interface RemoteExportRecord {
  queueId: string
  exportId: string
  tssId: string
  pulledAt: string
  bytes: number
}

/** The TSS certificate a remote TSE gave at set-up, for the expiry inventory. */
export interface RemoteTssCertificate {
  queueId: string
  tssSerial: string
  /** PEM */
  certificate: string
}

export interface RemoteTseStore {
  remoteIn(unit: UnitOfWork, queueId: string): Promise<RemoteTseRecord | undefined>
  remote(queueId: string): Promise<RemoteTseRecord | undefined>
  saveRemote(record: RemoteTseRecord): Promise<void>
  /** Of every cash box on a remote TSE, read from what set-up stored: no call to the TSE. */
  tssCertificates(): Promise<RemoteTssCertificate[]>
  insertExport(record: RemoteExportRecord, tar: Buffer): Promise<void>
  exports(queueId: string): Promise<RemoteExportRecord[]>
  exportTar(queueId: string, exportId: string): Promise<Buffer | undefined>
}
