import type { Count } from '../../module.ts'

// Germany's tables: the software TSS and the SIGN DE v2 API (migration 004-de-tss; times are unix
// seconds), and the DE cash boxes of /v2/sign (migration 009-de-market).

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

/** The remote TSE of a DE cash box (migration 021-de-remote-tse); secrets sealed by the master key. */
export interface DeRemoteTseTable {
  queue_id: string
  base_url: string
  api_key: string
  api_secret_sealed: string
  admin_pin_sealed: string | null
  tss_id: string
  client_id: string
  client_serial: string
  tss_serial: string
  public_key: string
  algorithm: string
  certificate: string
  timeout_ms: number
  updated_at: string
}

/** A TAR export pulled from a remote TSE (base64), kept for the retention period. */
export interface DeRemoteExportTable {
  queue_id: string
  export_id: string
  tss_id: string
  pulled_at: string
  bytes: number
  tar: string
}

export interface DeTables {
  de_api_credentials: DeApiCredentialTable
  de_api_refresh_tokens: DeApiRefreshTokenTable
  de_secrets: DeSecretTable
  de_tss: DeTssTable
  de_tss_clients: DeTssClientTable
  de_tss_transactions: DeTssTransactionTable
  de_tss_tx_revisions: DeTssTxRevisionTable
  de_tss_logs: DeTssLogTable
  de_tss_exports: DeTssExportTable
  de_cashboxes: DeCashboxTable
  de_receipts: DeReceiptTable
  de_remote_tse: DeRemoteTseTable
  de_remote_exports: DeRemoteExportTable
}
