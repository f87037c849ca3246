import type { ColumnType, Generated } from 'kysely'

/** Counters are int8 on PostgreSQL; the pg type parser (storage/database.ts) returns them as numbers. */
type Count = ColumnType<number, number, number>

export interface MetaTable {
  key: string
  value: string
}

export interface AccountTable {
  id: string
  name: string
  created_at: string
  /** Transactions API v1 accounts (migration 008); null for the local account of the POS System API. */
  billing_email?: string | null
}

export interface CashboxTable {
  id: string
  account_id: string
  country: string
  label: string
  access_token_hash: string
  created_at: string
}

export interface QueueTable {
  id: string
  cashbox_id: string
  country_code: number
  current_row: Count
  receipt_numerator: Count
  action_numerator: Count
  last_receipt_hash: string
  start_moment: string | null
  stop_moment: string | null
  /** JSON: running totals per closing period (see core/totalizers.ts). */
  totalizers: string
  /** The market plug's own per-queue state (JSON or null), written in the same unit of work as its receipt. */
  market_state: string | null
  /** JSON or null: the receipt reserved while its external signing unit is called (core/ports.ts). */
  reservation: string | null
  created_at: string
}

export interface SigningKeyTable {
  queue_id: string
  algorithm: string
  public_key: string
  private_key_encrypted: string
  created_at: string
}

export interface QueueItemTable {
  id: string
  queue_id: string
  row: Count
  operation_id: string
  cb_receipt_reference: string
  cb_terminal_id: string | null
  ft_receipt_case: string
  cb_receipt_moment: string
  ft_moment: string
  request: string
  request_hash: string
  response: string
  response_hash: string
  ft_state: string
}

export interface ReceiptJournalTable {
  id: string
  queue_id: string
  number: Count
  queue_item_id: string
  queue_row: Count
  moment: string
  receipt_case: string
  total: string
  request_hash: string
  response_hash: string
  previous_hash: string
  hash: string
}

export interface ActionJournalTable {
  id: string
  queue_id: string
  number: Count
  queue_item_id: string | null
  moment: string
  type: string
  message: string
  data: string
}

export interface OperationTable {
  cashbox_id: string
  operation_id: string
  kind: string
  request_hash: string
  queue_item_id: string
  created_at: string
}

export interface Database {
  meta: MetaTable
  accounts: AccountTable
  cashboxes: CashboxTable
  queues: QueueTable
  signing_keys: SigningKeyTable
  queue_items: QueueItemTable
  receipt_journal: ReceiptJournalTable
  action_journal: ActionJournalTable
  operations: OperationTable
  payments: PaymentTable
  issued_receipts: IssuedReceiptTable
  de_api_credentials: DeApiCredentialTable
  de_api_refresh_tokens: DeApiRefreshTokenTable
  de_secrets: DeSecretTable
  de_tss: DeTssTable
  de_tss_clients: DeTssClientTable
  de_tss_transactions: DeTssTransactionTable
  de_tss_tx_revisions: DeTssTxRevisionTable
  de_tss_logs: DeTssLogTable
  de_tss_exports: DeTssExportTable
  api_keys: ApiKeyTable
  locations: LocationTable
  fiscal_chains: FiscalChainTable
  transactions: TransactionTable
  fiscal_records: FiscalRecordTable
  jobs: JobTable
  webhook_endpoints: WebhookEndpointTable
  webhook_deliveries: WebhookDeliveryTable
  kysely_migration?: Generated<never>
  at_cashboxes: AtCashboxTable
  at_signature_devices: AtSignatureDeviceTable
  at_receipts: AtReceiptTable
  de_cashboxes: DeCashboxTable
  de_receipts: DeReceiptTable
  es_cashboxes: EsCashboxTable
  es_records: EsRecordTable
  it_cashboxes: ItCashboxTable
  it_documents: ItDocumentTable
}

/** Austria (RKSV): the Kassen-ID and the AES key (sealed by the master key) of a queue. */
export interface AtCashboxTable {
  queue_id: string
  kassen_id: string
  aes_key_encrypted: string
  /** Prüfwert of the AES key, as registered with FinanzOnline. */
  aes_key_check: string
  counter_size: number
  created_at: string
}

/** A signature device of an AT queue: closed system (AT0, key id) or certificate (AT1.., serial). */
export interface AtSignatureDeviceTable {
  queue_id: string
  number: number
  provider: string
  /** What the receipts carry in the certificate field: `{Ordnungsbegriff}-{key id}` or the serial in hex. */
  certificate_field: string
  /** base64 SPKI DER */
  public_key: string
  /** base64 DER, certificate mode only */
  certificate: string | null
  private_key_encrypted: string
  /** Set while the device is out of service (ISO moment it was reported), null when in service. */
  out_of_service_since: string | null
  created_at: string
}

/** Every signed (or failed-device) AT receipt in order: the source of the DEP7 export. */
export interface AtReceiptTable {
  queue_id: string
  seq: Count
  receipt_id: string
  queue_row: Count
  moment: string
  kind: string
  device_number: number
  failed: number
  jws: string
}

/** /v2/pay operations (migration 005-pay-issue); amounts are decimal text. */
export interface PaymentTable {
  id: string
  cashbox_id: string
  operation_id: string
  queue_id: string
  action: string
  protocol: string
  terminal_id: string | null
  amount: string
  currency: string
  pay_item_case: string
  request: string
  request_hash: string
  state: string
  original_id: string | null
  transaction_id: string | null
  reversed: string
  answer: string | null
  last_error: string | null
  created_at: string
  updated_at: string
}

/** Receipts issued as public documents (/v2/issue); the id is the unguessable token of the link. */
export interface IssuedReceiptTable {
  id: string
  cashbox_id: string
  queue_id: string
  queue_item_id: string
  created_at: string
  delivered_at: string | null
  delivered_by: string | null
}

// Germany (migration 004-de-tss): the software TSS and the SIGN DE v2 API. Times are unix seconds.

export interface DeApiCredentialTable {
  api_key: string
  secret_hash: string
  organization_id: string
  env: string
  created_at: string
}

export interface DeApiRefreshTokenTable {
  token_hash: string
  api_key: string
  expires_at: Count
}

export interface DeSecretTable {
  name: string
  public_part: string
  sealed: string
  created_at: string
}

export interface DeTssTable {
  id: string
  organization_id: string
  env: string
  state: string
  description: string
  metadata: string
  algorithm: string
  public_key: string
  serial_number: string
  private_key_encrypted: string
  certificate: string
  admin_puk_hash: string
  admin_puk_encrypted: string | null
  admin_pin_hash: string | null
  admin_pin_failures: number
  admin_session_until: Count | null
  signature_counter: Count
  transaction_counter: Count
  number_registered_clients: number
  number_active_transactions: number
  last_log_time: Count
  time_creation: Count
  time_uninit: Count | null
  time_init: Count | null
  time_disable: Count | null
}

export interface DeTssClientTable {
  id: string
  tss_id: string
  serial_number: string
  state: string
  metadata: string
  time_creation: Count
  time_update: Count
}

export interface DeTssTransactionTable {
  tss_id: string
  id: string
  number: Count
  client_id: string
  state: string
  latest_revision: number
  schema_kind: string | null
  metadata: string
  time_start: Count
  time_end: Count | null
}

export interface DeTssTxRevisionTable {
  tss_id: string
  tx_id: string
  revision: number
  request_hash: string
  response: string
}

export interface DeTssLogTable {
  tss_id: string
  signature_counter: Count
  kind: string
  operation: string
  log_time: Count
  transaction_number: Count | null
  client_serial: string | null
  message: string
}

export interface DeTssExportTable {
  tss_id: string
  id: string
  state: string
  filters: string
  exception: string | null
  upto_signature_counter: Count | null
  record_count: Count | null
  metadata: string
  time_request: Count
  time_start: Count | null
  time_end: Count | null
  time_expiration: Count | null
}

/** Germany on /v2/sign: a DE cash box's TSS and client. */
export interface DeCashboxTable {
  queue_id: string
  organization_id: string
  tss_id: string
  client_id: string
  client_serial: string
  tss_out_of_service_since: string | null
  created_at: string
}

/** A DE receipt as DSFinV-K records it (data: JSON), in the cash point closing z_nr. */
export interface DeReceiptTable {
  queue_id: string
  receipt_number: Count
  z_nr: Count
  kind: string
  moment: string
  data: string
}

// Transactions API v1 (migration 008-transactions-v1)

export interface ApiKeyTable {
  id: string
  account_id: string
  environment: string
  key_hash: string
  /** The key's first characters and last four, to tell keys apart in a list; never enough to use it. */
  key_hint: string
  name: string
  created_at: string
  revoked_at: string | null
}

export interface LocationTable {
  id: string
  account_id: string
  name: string
  country: string
  /** JSON object: the country's settings (Spain: system, territory, nif, certificate_id). */
  country_config: string
  active: number
  public_key: string
  private_key_encrypted: string
  created_at: string
  deactivated_at: string | null
}

export interface FiscalChainTable {
  location_id: string
  environment: string
  last_sequence: Count
  last_hash: string
  state: string | null
}

export interface TransactionTable {
  id: string
  account_id: string
  location_id: string
  idempotency_key: string
  request_hash: string
  type: string
  status: string
  amount: Count
  currency: string
  country: string
  environment: string
  request_payload: string
  response_payload: string | null
  fiscal_id: string | null
  error_message: string | null
  original_transaction_id: string | null
  submitted_at: string | null
  completed_at: string | null
  created_at: string
  updated_at: string
}

export interface FiscalRecordTable {
  transaction_id: string
  location_id: string
  environment: string
  sequence: Count
  fiscalizer: string
  previous_hash: string
  hash: string
  record: string
  fiscal_id: string | null
  created_at: string
}

export interface JobTable {
  id: string
  account_id: string
  kind: string
  subject_id: string
  group_key: string
  status: string
  attempts: number
  max_attempts: number
  /** Epoch milliseconds: when the job is due. */
  run_at: Count
  locked_by: string | null
  locked_until: Count | null
  /** 1 when the last attempt may have reached the peer: ask it before sending again. */
  reconcile: number
  last_error: string | null
  created_at: string
  updated_at: string
  completed_at: string | null
  /** The batch window a submission is held for (`lroe`), null for the others. */
  batch_window: string | null
}

export interface WebhookEndpointTable {
  id: string
  account_id: string
  url: string
  events: string
  secret_encrypted: string
  active: number
  created_at: string
}

export interface WebhookDeliveryTable {
  id: string
  endpoint_id: string
  account_id: string
  event_id: string
  event_type: string
  payload: string
  status: string
  attempts: number
  last_status_code: number | null
  last_error: string | null
  created_at: string
  delivered_at: string | null
}

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

/** Italy on /v2/sign: an IT cash box's RT device configuration (JSON, see markets/it/configuration.ts). */
export interface ItCashboxTable {
  queue_id: string
  config: string
  updated_at: string
}

/** A documento commerciale an IT cash box's device printed for a receipt, with the device's numbers. */
export interface ItDocumentTable {
  queue_id: string
  queue_row: Count
  receipt_reference: string
  terminal_id: string | null
  kind: string
  serial: string
  z_number: number
  doc_number: number
  device_moment: string
  total: string
}
