import type { UnitOfWork } from '../../core/ports.ts'

/** What the Austrian market needs from storage; store.ts implements it with Kysely. */
export interface AtCashboxConfig {
  queueId: string
  kassenId: string
  aesKeyEncrypted: string
  aesKeyCheck: string
  counterSize: number
  createdAt: string
}

export type DeviceKind = 'PUBLIC_KEY' | 'CERTIFICATE'

export interface AtDeviceRecord {
  queueId: string
  number: number
  /** AT0 closed system; AT1, AT2, ... trust providers. */
  provider: string
  certificateField: string
  publicKey: string
  certificate: string | null
  privateKeyEncrypted: string
  outOfServiceSince: string | null
  createdAt: string
}

export interface AtReceiptRecord {
  queueId: string
  seq: number
  receiptId: string
  queueRow: number
  moment: string
  kind: string
  deviceNumber: number
  failed: boolean
  jws: string
}

export interface ReceiptRange {
  /** ISO moments, inclusive; undefined = open. */
  from?: string
  to?: string
}

export interface AtStore {
  /** Cash box and its first devices in one commit; refuses a second provisioning of the queue. */
  insertCashbox(config: AtCashboxConfig, devices: AtDeviceRecord[]): Promise<void>
  insertDevice(device: AtDeviceRecord): Promise<void>
  /** Marks a device out of service (since = ISO moment) or back in service (null); false if no such device. */
  setOutOfService(queueId: string, number: number, since: string | null): Promise<boolean>
  config(queueId: string): Promise<AtCashboxConfig | undefined>
  devices(queueId: string): Promise<AtDeviceRecord[]>
  /** The devices with a certificate (AT1, AT2, ...), of every cash box. */
  certifiedDevices(): Promise<AtDeviceRecord[]>
  receipts(queueId: string, afterSeq: number, limit: number, range: ReceiptRange): Promise<AtReceiptRecord[]>
  /** Inside a receipt's unit of work. */
  configIn(unit: UnitOfWork, queueId: string): Promise<AtCashboxConfig | undefined>
  devicesIn(unit: UnitOfWork, queueId: string): Promise<AtDeviceRecord[]>
  insertReceiptIn(unit: UnitOfWork, receipt: AtReceiptRecord): Promise<void>
}
