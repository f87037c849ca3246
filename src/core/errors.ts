/**
 * The closed set of error codes of the core. Transport layers map each code to their own status (see
 * api/errors.ts); the core never speaks HTTP. A market module adds its own codes (`MarketErrorCode`).
 */
export enum ErrorCode {
  ValidationError = 'validation_error',
  /** The URL's path is malformed or leaves its folder (`..`): not a field of a receipt. */
  InvalidPath = 'invalid_path',
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
  /** The database did not answer or dropped the connection: nothing was answered as done, retry the same id. */
  DatabaseUnavailable = 'database_unavailable',
  // Transactions API v1
  Forbidden = 'forbidden',
  Conflict = 'conflict',
  /** A certificate to store cannot be used: details.field and `problem` name what is wrong with it. */
  CertificateRefused = 'certificate_refused',
}

/** A code a market module declares with its status and title (markets/module.ts); the string is the wire code. */
export type MarketErrorCode = string

export interface FieldProblem {
  /** Path of the offending field in the request, e.g. `cbChargeItems[0].Amount`. */
  field: string
  /** The rule the field broke, phrased so that a developer knows what to send instead. */
  reason: string
}

export class FiscalError extends Error {
  constructor(
    readonly code: ErrorCode | MarketErrorCode,
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
