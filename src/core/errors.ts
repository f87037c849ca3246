/**
 * The closed set of error codes the product can answer with. Transport layers map each code to their own
 * status (see api/errors.ts); the core never speaks HTTP.
 */
export enum ErrorCode {
  ValidationError = 'validation_error',
  Unauthorized = 'unauthorized',
  NotFound = 'not_found',
  OperationConflict = 'operation_conflict',
  OperationInProgress = 'operation_in_progress',
  PayloadTooLarge = 'payload_too_large',
  UnsupportedMediaType = 'unsupported_media_type',
  RateLimited = 'rate_limited',
  ServiceUnavailable = 'service_unavailable',
  Internal = 'internal_error',
  /** The payment provider answered: declined, timed out or aborted at the terminal (details.errorCode). */
  PaymentError = 'payment_error',
  /** The payment device or service did not answer; nothing started, a retry with the same id is safe. */
  DeviceNotReachable = 'device_not_reachable',
  MarketNotConfigured = 'market_not_configured',
  AlreadyConfigured = 'already_configured',
  // Germany: the TSS and the SIGN DE v2 API name their errors with these codes.
  DeIllegalTssStateChange = 'E_ILLEGAL_TSS_STATE_CHANGE',
  DeAdminPinBlocked = 'E_ADMIN_PIN_BLOCKED',
  DeChangeAdminPinFailed = 'E_CHANGE_ADMIN_PIN_FAILED',
  DeAdminLoginFailed = 'E_ADMIN_LOGIN_FAILED',
  DeAdminNotAuthenticated = 'E_ADMIN_NOT_AUTHENTICATED',
  DeIllegalClientSerial = 'E_ILLEGAL_CLIENT_SERIAL',
  DeTssDisabled = 'E_TSS_DISABLED',
  DeTssNotInitialized = 'E_TSS_NOT_INITIALIZED',
  DeClientLimitReached = 'E_CLIENT_LIMIT_REACHED',
  DeClientConflict = 'E_CLIENT_CONFLICT',
  DeTssConflict = 'E_TSS_CONFLICT',
  DeTxUpsert = 'E_TX_UPSERT',
  DeClientNotFound = 'E_CLIENT_NOT_FOUND',
  DeClientDeregistered = 'E_CLIENT_DEREGISTERED',
  DeTxLimitReached = 'E_TX_LIMIT_REACHED',
  DeTxIllegalTypeChange = 'E_TX_ILLEGAL_TYPE_CHANGE',
  DeTxNoTypeDefined = 'E_TX_NO_TYPE_DEFINED',
  DePendingTxConflict = 'E_PENDING_TX_CONFLICT',
  DeTxRevisionNotFound = 'E_TX_REVISION_NOT_FOUND',
  DeExportIllegalTssState = 'E_TSS_ILLEGAL_STATE_TO_PERFORM_EXPORT',
  DeTooManyExports = 'E_TOO_MANY_EXPORTS',
  DeExportNotCompleted = 'E_EXPORT_NOT_COMPLETED',
  /** The database did not answer or dropped the connection: nothing was answered as done, retry the same id. */
  DatabaseUnavailable = 'database_unavailable',
  // Transactions API v1
  Forbidden = 'forbidden',
  Conflict = 'conflict',
}

export interface FieldProblem {
  /** Path of the offending field in the request, e.g. `cbChargeItems[0].Amount`. */
  field: string
  /** The rule the field broke, phrased so that a developer knows what to send instead. */
  reason: string
}

export class FiscalError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldProblem,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message)
    this.name = 'FiscalError'
  }
}

export function invalid(field: string, reason: string): FiscalError {
  return new FiscalError(ErrorCode.ValidationError, `${field}: ${reason}`, { field, reason })
}
