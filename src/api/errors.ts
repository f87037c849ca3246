import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify'
import { ErrorCode, FiscalError, type FieldProblem } from '../core/errors.ts'
import { isDatabaseUnavailable } from '../storage/unavailable.ts'

/** The one place where error codes become HTTP status codes. */
export const STATUS: Record<ErrorCode, number> = {
  [ErrorCode.ValidationError]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.OperationConflict]: 409,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.OperationInProgress]: 422,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.Internal]: 500,
  [ErrorCode.ServiceUnavailable]: 503,
  [ErrorCode.PaymentError]: 402,
  [ErrorCode.DeviceNotReachable]: 502,
  [ErrorCode.MarketNotConfigured]: 409,
  [ErrorCode.AlreadyConfigured]: 409,
  [ErrorCode.DeIllegalTssStateChange]: 400,
  [ErrorCode.DeAdminPinBlocked]: 423,
  [ErrorCode.DeChangeAdminPinFailed]: 400,
  [ErrorCode.DeAdminLoginFailed]: 401,
  [ErrorCode.DeAdminNotAuthenticated]: 401,
  [ErrorCode.DeIllegalClientSerial]: 400,
  [ErrorCode.DeTssDisabled]: 400,
  [ErrorCode.DeTssNotInitialized]: 400,
  [ErrorCode.DeClientLimitReached]: 403,
  [ErrorCode.DeClientConflict]: 409,
  [ErrorCode.DeTssConflict]: 409,
  [ErrorCode.DeTxUpsert]: 400,
  [ErrorCode.DeClientNotFound]: 400,
  [ErrorCode.DeClientDeregistered]: 400,
  [ErrorCode.DeTxLimitReached]: 400,
  [ErrorCode.DeTxIllegalTypeChange]: 409,
  [ErrorCode.DeTxNoTypeDefined]: 409,
  [ErrorCode.DePendingTxConflict]: 409,
  [ErrorCode.DeTxRevisionNotFound]: 400,
  [ErrorCode.DeExportIllegalTssState]: 409,
  [ErrorCode.DeTooManyExports]: 409,
  [ErrorCode.DeExportNotCompleted]: 404,
  [ErrorCode.DatabaseUnavailable]: 503,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.Conflict]: 409,
}

const TITLES: Record<ErrorCode, string> = {
  [ErrorCode.ValidationError]: 'Receipt validation failed',
  [ErrorCode.Unauthorized]: 'Authentication failed',
  [ErrorCode.NotFound]: 'Not found',
  [ErrorCode.OperationConflict]: 'Operation id reused with a different body',
  [ErrorCode.PayloadTooLarge]: 'Request body too large',
  [ErrorCode.UnsupportedMediaType]: 'Unsupported content type',
  [ErrorCode.OperationInProgress]: 'Operation still in progress',
  [ErrorCode.RateLimited]: 'Too many requests',
  [ErrorCode.Internal]: 'Internal error',
  [ErrorCode.ServiceUnavailable]: 'Service unavailable',
  [ErrorCode.PaymentError]: 'Payment processing failed',
  [ErrorCode.DeviceNotReachable]: 'Payment device not reachable',
  [ErrorCode.MarketNotConfigured]: 'Cash box not configured for its country',
  [ErrorCode.AlreadyConfigured]: 'Already configured',
  [ErrorCode.DeIllegalTssStateChange]: 'Illegal TSS state change',
  [ErrorCode.DeAdminPinBlocked]: 'Admin PIN blocked',
  [ErrorCode.DeChangeAdminPinFailed]: 'Admin PIN change failed',
  [ErrorCode.DeAdminLoginFailed]: 'Admin login failed',
  [ErrorCode.DeAdminNotAuthenticated]: 'Admin not authenticated',
  [ErrorCode.DeIllegalClientSerial]: 'Illegal client serial number',
  [ErrorCode.DeTssDisabled]: 'TSS disabled',
  [ErrorCode.DeTssNotInitialized]: 'TSS not initialized',
  [ErrorCode.DeClientLimitReached]: 'Client limit reached',
  [ErrorCode.DeClientConflict]: 'Client conflict',
  [ErrorCode.DeTssConflict]: 'TSS conflict',
  [ErrorCode.DeTxUpsert]: 'Transaction upsert failed',
  [ErrorCode.DeClientNotFound]: 'Client not found',
  [ErrorCode.DeClientDeregistered]: 'Client deregistered',
  [ErrorCode.DeTxLimitReached]: 'Active transaction limit reached',
  [ErrorCode.DeTxIllegalTypeChange]: 'Illegal transaction type change',
  [ErrorCode.DeTxNoTypeDefined]: 'Transaction has no type',
  [ErrorCode.DePendingTxConflict]: 'Transaction revision conflict',
  [ErrorCode.DeTxRevisionNotFound]: 'Transaction revision not found',
  [ErrorCode.DeExportIllegalTssState]: 'TSS state does not allow an export',
  [ErrorCode.DeTooManyExports]: 'Too many exports',
  [ErrorCode.DeExportNotCompleted]: 'Export not completed',
  [ErrorCode.DatabaseUnavailable]: 'Database unavailable',
  [ErrorCode.Forbidden]: 'Forbidden',
  [ErrorCode.Conflict]: 'Conflict with the current state',
}

/**
 * A problem+json document (RFC 9457) that also carries the `error`, `message` and `details {field, reason}`
 * members of the POS System API's error examples, so either kind of client finds what it looks for.
 */
export function problem(
  code: ErrorCode,
  message: string,
  details?: FieldProblem,
  extra?: Record<string, unknown>,
) {
  return {
    type: `https://fiscalbox.dev/problems/${code}`,
    title: TITLES[code],
    status: STATUS[code],
    detail: message,
    error: code,
    message,
    ...(details ? { details, errors: [details] } : {}),
    ...extra,
  }
}

export function sendProblem(reply: FastifyReply, error: FiscalError): FastifyReply {
  return reply
    .code(STATUS[error.code])
    .type('application/problem+json')
    .send(problem(error.code, error.message, error.details, error.extra))
}

/** Ajv's instancePath "/cbChargeItems/0/Amount" -> "cbChargeItems[0].Amount". */
function fieldOf(instancePath: string, missing?: string): string {
  const parts = instancePath.split('/').filter(Boolean)
  if (missing) parts.push(missing)
  return (
    parts.reduce(
      (path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part),
      '',
    ) || 'body'
  )
}

interface AjvError {
  instancePath: string
  keyword: string
  message?: string
  params: Record<string, unknown>
}

export function fromFastifyError(
  error: FastifyError & { validation?: AjvError[]; validationContext?: string },
): FiscalError {
  if (error instanceof FiscalError) return error
  if (error.validation?.length) {
    const first = error.validation[0] as AjvError
    const missing = first.keyword === 'required' ? String(first.params.missingProperty) : undefined
    const prefix =
      error.validationContext && error.validationContext !== 'body' ? `${error.validationContext}.` : ''
    const field = prefix + fieldOf(first.instancePath, missing)
    const reason = missing ? 'is required' : (first.message ?? 'is invalid')
    return new FiscalError(ErrorCode.ValidationError, `${field}: ${reason}`, { field, reason })
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new FiscalError(
        ErrorCode.PayloadTooLarge,
        'the request body is larger than the limit (BODY_LIMIT)',
        { field: 'body', reason: 'too large' },
      )
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new FiscalError(ErrorCode.UnsupportedMediaType, 'send the body as application/json', {
        field: 'content-type',
        reason: 'must be application/json',
      })
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new FiscalError(ErrorCode.ValidationError, 'body: must be a JSON document', {
        field: 'body',
        reason: 'must not be empty',
      })
  }
  if ((error.statusCode ?? 500) < 500) {
    return new FiscalError(ErrorCode.ValidationError, error.message, {
      field: 'request',
      reason: error.message,
    })
  }
  if (isDatabaseUnavailable(error)) {
    return new FiscalError(
      ErrorCode.DatabaseUnavailable,
      'the database is not reachable or dropped the connection: nothing was answered as done; retry with the same x-operation-id and body',
    )
  }
  return new FiscalError(
    ErrorCode.Internal,
    'internal error: retry with the same x-operation-id; nothing was answered as done',
  )
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const fiscal = fromFastifyError(error)
    if (fiscal.code === ErrorCode.DatabaseUnavailable) {
      // Expected while the database restarts: one line without the driver's text, and a hint when to retry.
      request.log.warn({ code: (error as { code?: string }).code }, 'database unavailable')
      reply.header('retry-after', '1')
    } else if (STATUS[fiscal.code] >= 500) request.log.error({ err: error }, 'request failed')
    return sendProblem(reply, fiscal)
  })
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new FiscalError(
        ErrorCode.NotFound,
        `no route ${request.method} ${request.url.split('?')[0]}: see /docs for the API`,
        { field: 'url', reason: 'no such route for this method' },
      ),
    ),
  )
}
