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
  api_keys: ApiKeyTable
  locations: LocationTable
  fiscal_chains: FiscalChainTable
  transactions: TransactionTable
  fiscal_records: FiscalRecordTable
  jobs: JobTable
  webhook_endpoints: WebhookEndpointTable
  webhook_deliveries: WebhookDeliveryTable
  operators: OperatorTable
  terminals: TerminalTable
  export_runs: ExportRunTable
  certificates: CertificateTable
  certificate_versions: CertificateVersionTable
  kysely_migration?: Generated<never>
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

/** Dashboard operators (migration 018-operators). */
export interface OperatorTable {
  id: string
  account_id: string
  email: string
  password_hash: string
  created_at: string
}

/** Terminals paired with a cash box (migration 019-terminals), one row per (cashbox_id, terminal_id). */
export interface TerminalTable {
  cashbox_id: string
  terminal_id: string
  description: string
  paired_at: string
}

/** Exports started from the dashboard (migration 020-export-runs); JSON text in period, files and verdict. */
export interface ExportRunTable {
  id: string
  account_id: string
  cashbox_id: string
  cashbox_label: string
  format: string
  format_label: string
  period: string
  status: string
  done: number
  total: number | null
  started_at: string
  heartbeat_at: string
  finished_at: string | null
  files: string
  bytes: number
  error: string | null
  verdict: string | null
}

/** An account's certificates (migration 022-certificates); the active one of its versions by number. */
export interface CertificateTable {
  id: string
  account_id: string
  name: string
  active_version: number
  created_at: string
}

export interface CertificateVersionTable {
  id: string
  certificate_id: string
  account_id: string
  version: number
  fingerprint: string
  subject: string
  issuer: string
  serial_number: string
  not_before: string
  not_after: string
  /** JSON {keyUsage, extendedKeyUsage, uses} */
  usages: string
  chain_pem: string
  private_key_encrypted: string
  created_at: string
}
