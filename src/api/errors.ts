import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify'
import { ErrorCode, FiscalError, type FieldProblem, type MarketErrorCode } from '../core/errors.ts'
import { marketModules } from '../markets/index.ts'
import type { ErrorCodeSpec } from '../markets/module.ts'
import { isDatabaseUnavailable } from '../storage/unavailable.ts'
import { payloadTooLarge } from './body-limit.ts'

const CORE: Record<ErrorCode, ErrorCodeSpec> = {
  [ErrorCode.ValidationError]: { status: 400, title: 'Receipt validation failed' },
  [ErrorCode.InvalidPath]: { status: 400, title: 'Invalid path' },
  [ErrorCode.Unauthorized]: { status: 401, title: 'Authentication failed' },
  [ErrorCode.NotFound]: { status: 404, title: 'Not found' },
  [ErrorCode.OperationConflict]: { status: 409, title: 'Operation id reused with a different body' },
  [ErrorCode.PayloadTooLarge]: { status: 413, title: 'Request body too large' },
  [ErrorCode.UnsupportedMediaType]: { status: 415, title: 'Unsupported content type' },
  [ErrorCode.OperationInProgress]: { status: 422, title: 'Operation still in progress' },
  [ErrorCode.RateLimited]: { status: 429, title: 'Too many requests' },
  [ErrorCode.Internal]: { status: 500, title: 'Internal error' },
  [ErrorCode.ServiceUnavailable]: { status: 503, title: 'Service unavailable' },
  [ErrorCode.PaymentError]: { status: 402, title: 'Payment processing failed' },
  [ErrorCode.DeviceNotReachable]: { status: 502, title: 'Device not reachable' },
  [ErrorCode.MarketNotConfigured]: { status: 409, title: 'Cash box not configured for its country' },
  [ErrorCode.AlreadyConfigured]: { status: 409, title: 'Already configured' },
  [ErrorCode.DatabaseUnavailable]: { status: 503, title: 'Database unavailable' },
  [ErrorCode.Forbidden]: { status: 403, title: 'Forbidden' },
  [ErrorCode.Conflict]: { status: 409, title: 'Conflict with the current state' },
  [ErrorCode.CertificateRefused]: { status: 400, title: 'Certificate refused' },
}

/** The one place where error codes become HTTP status codes: the core's and each market module's. */
const CODES: ReadonlyMap<string, ErrorCodeSpec> = new Map([
  ...Object.entries(CORE),
  ...marketModules.flatMap((module) => Object.entries(module.errors ?? {})),
])

/** A code no module declares is a bug of ours: answered as an internal error. */
const specOf = (code: ErrorCode | MarketErrorCode): ErrorCodeSpec =>
  CODES.get(code) ?? CORE[ErrorCode.Internal]

export const statusOf = (code: ErrorCode | MarketErrorCode): number => specOf(code).status

/**
 * A problem+json document (RFC 9457) that also carries the `error`, `message` and `details {field, reason}`
 * members of the POS System API's error examples, so either kind of client finds what it looks for.
 */
export function problem(
  code: ErrorCode | MarketErrorCode,
  message: string,
  details?: FieldProblem,
  extra?: Record<string, unknown>,
) {
  return {
    type: `https://fiscalbox.dev/problems/${code}`,
    title: specOf(code).title,
    status: specOf(code).status,
    detail: message,
    error: code,
    message,
    ...(details ? { details, errors: [details] } : {}),
    ...extra,
  }
}

export function sendProblem(reply: FastifyReply, error: FiscalError): FastifyReply {
  return reply
    .code(statusOf(error.code))
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

/** The routes whose refusals are about the path itself: the files of the API documentation. */
const STATIC_FILES = '/docs/static/'

/** A refusal of the request's path (percent-encoding, `..`, NUL), with the rule it broke. */
export function invalidPath(reason: string): FiscalError {
  return new FiscalError(ErrorCode.InvalidPath, `url: ${reason}`, { field: 'url', reason })
}

/** `route`: the matched route's pattern (request.routeOptions.url), when there is one. */
export function fromFastifyError(
  error: FastifyError & { validation?: AjvError[]; validationContext?: string },
  route?: string,
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
      return payloadTooLarge()
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
  if ((error.statusCode ?? 500) < 500 && route?.startsWith(STATIC_FILES)) {
    // The file server refuses `..` (403) and NUL bytes (400) in the path: a path error, not a forbidden file.
    return invalidPath(`must name a file under ${STATIC_FILES}, without .. segments or NUL bytes`)
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
    const fiscal = fromFastifyError(error, request.routeOptions.url)
    if (fiscal.code === ErrorCode.DatabaseUnavailable) {
      // Expected while the database restarts: one line without the driver's text, and a hint when to retry.
      request.log.warn({ code: (error as { code?: string }).code }, 'database unavailable')
      reply.header('retry-after', '1')
    } else if (statusOf(fiscal.code) >= 500) request.log.error({ err: error }, 'request failed')
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
