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
