import { toPem } from '../tss/certificates.ts'
import { MAX_ACTIVE_TRANSACTIONS, MAX_CLIENTS } from '../tss/model.ts'
import type { ClientRecord, ExportRecord, Metadata, TransactionView, TssRecord } from '../tss/model.ts'
import type { ReceiptSchema } from '../tss/process-data.ts'
import type { Caller } from '../tss/tss-service.ts'

/** The API version answered in `_version`: the SIGN DE API release whose surface this follows. */
export const API_VERSION = '2.1.35'

type Env = 'TEST' | 'LIVE'

const envelope = <T extends string>(caller: Caller, id: string, type: T) => ({
  _id: id,
  _type: type,
  _env: caller.env as Env,
  _version: API_VERSION,
})

const optional = <K extends string, V extends number | string>(key: K, value: V | null | undefined) =>
  (value === null || value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>

export function tssView(caller: Caller, tss: TssRecord, adminPuk?: string | null) {
  return {
    ...envelope(caller, tss.id, 'TSS'),
    certificate: toPem(Buffer.from(tss.certificate, 'base64')),
    serial_number: tss.serialNumber,
    public_key: tss.publicKey,
    signature_algorithm: tss.algorithm,
    signature_timestamp_format: 'unixTime' as const,
    transaction_data_encoding: 'UTF-8' as const,
    max_number_registered_clients: MAX_CLIENTS,
    max_number_active_transactions: MAX_ACTIVE_TRANSACTIONS,
    number_registered_clients: tss.numberRegisteredClients,
    number_active_transactions: tss.numberActiveTransactions,
    signature_counter: String(tss.signatureCounter),
    transaction_counter: String(tss.transactionCounter),
    supported_update_variants: 'SIGNED' as const,
    bsi_certification_id: 'NONE (fiscalbox software TSS)',
    description: tss.description,
    state: tss.state,
    time_creation: tss.timeCreation,
    ...optional('time_uninit', tss.timeUninit),
    ...optional('time_init', tss.timeInit),
    ...optional('time_disable', tss.timeDisable),
    metadata: tss.metadata,
    ...(adminPuk ? { admin_puk: adminPuk } : {}),
  }
}

export function clientView(caller: Caller, client: ClientRecord) {
  return {
    ...envelope(caller, client.id, 'CLIENT'),
    serial_number: client.serialNumber,
    tss_id: client.tssId,
    state: client.state,
    time_creation: client.timeCreation,
    time_update: client.timeUpdate,
    metadata: client.metadata,
  }
}

/**
 * The transaction data as the commercial service answers it: the schema as sent, with the defaults it
 * stands for (currency_code EUR), and `raw` with the processType and processData that were signed. A
 * start revision signs no data and has no schema.
 */
function schemaView(v: TransactionView) {
  if (!v.processType) return {}
  const sent = (v.schema ?? {}) as { standard_v1?: { receipt?: ReceiptSchema } }
  const receipt = sent.standard_v1?.receipt
  const standard = receipt && {
    standard_v1: {
      receipt: {
        ...receipt,
        amounts_per_payment_type: receipt.amounts_per_payment_type.map((payment) => ({
          ...payment,
          currency_code: payment.currency_code ?? 'EUR',
        })),
      },
    },
  }
  return {
    schema: { ...sent, ...standard, raw: { process_type: v.processType, process_data: v.processData } },
  }
}

export function transactionView(
  caller: Caller,
  tx: { view: TransactionView; metadata: Metadata; latestRevision: number },
) {
  const v = tx.view
  return {
    ...envelope(caller, v.id, 'TRANSACTION'),
    tss_id: v.tssId,
    tss_serial_number: v.tssSerialNumber,
    client_id: v.clientId,
    client_serial_number: v.clientSerialNumber,
    state: v.state,
    revision: v.revision,
    latest_revision: tx.latestRevision,
    number: v.number,
    time_start: v.timeStart,
    ...optional('time_end', v.timeEnd),
    log: { operation: v.log.operation, timestamp: v.log.timestamp, timestamp_format: 'unixTime' as const },
    signature: {
      value: v.signature.value,
      algorithm: v.signature.algorithm,
      counter: v.signature.counter,
      public_key: v.signature.publicKey,
    },
    ...optional('qr_code_data', v.qrCodeData),
    ...schemaView(v),
    metadata: tx.metadata,
  }
}

export function exportView(caller: Caller, record: ExportRecord, now: number) {
  return {
    ...envelope(caller, record.id, 'EXPORT'),
    tss_id: record.tssId,
    state: record.state,
    ...optional('exception', record.exception),
    time_request: record.timeRequest,
    ...optional('time_start', record.timeStart),
    ...optional('time_end', record.timeEnd),
    ...optional('time_expiration', record.timeExpiration),
    estimated_time_of_completion: record.timeEnd ?? now + 1,
    ...optional('record_count', record.recordCount),
    metadata: record.metadata,
  }
}

export const listView = <T, L extends string>(
  caller: Caller,
  type: L,
  page: { data: T[]; count: number },
) => ({
  data: page.data,
  count: page.count,
  _type: type,
  _env: caller.env as Env,
  _version: API_VERSION,
})
