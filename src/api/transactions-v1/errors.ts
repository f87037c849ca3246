import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify'
import { ErrorCode, FiscalError } from '../../core/errors.ts'
import { fieldError, seedError } from '../../core/v1/transaction-input.ts'
import { fromFastifyError, problem, statusOf } from '../errors.ts'

/**
 * The v1 error document: the project's problem+json with `error` holding the message itself, as the
 * original API answers (`{"error": "location not found"}`), and `code` holding the error code.
 */
export function sendV1Problem(reply: FastifyReply, error: FiscalError): FastifyReply {
  return reply
    .code(statusOf(error.code))
    .type('application/problem+json')
    .send({
      ...problem(error.code, error.message, error.details, error.extra),
      ...(error.code === ErrorCode.ValidationError ? { title: 'Request validation failed' } : {}),
      error: error.message,
      code: error.code,
    })
}

interface AjvError {
  instancePath: string
  keyword: string
  params: Record<string, unknown>
}

const TAGS: Record<string, string> = {
  required: 'required',
  minimum: 'gte',
  exclusiveMinimum: 'gt',
  maximum: 'lte',
  exclusiveMaximum: 'lt',
  minLength: 'min',
  maxLength: 'max',
  pattern: 'format',
  type: 'type',
  anyOf: 'oneof',
  enum: 'oneof',
  const: 'oneof',
}

/** Ajv's first error in the wording of docs/transactions-api-v1.md: Go validator keys for fields, the API's own text for items. */
function fromValidation(errors: AjvError[], context: string, struct: string): FiscalError {
  const first = errors[0] as AjvError
  const parts = first.instancePath.split('/').filter(Boolean)
  if (first.keyword === 'required') parts.push(String(first.params.missingProperty))
  const itemsShape = parts.length === 1 || (parts.length === 2 && first.keyword === 'type')
  if (context === 'body' && parts[0] === 'items' && first.keyword !== 'required' && itemsShape) {
    return seedError('items must be a non-empty array', 'items')
  }
  const path = parts.reduce(
    (p, part) => (/^\d+$/.test(part) ? `${p}[${part}]` : p ? `${p}.${part}` : part),
    '',
  )
  if (context !== 'body') {
    const field = path || context
    return new FiscalError(
      ErrorCode.ValidationError,
      `${field}: is invalid (${TAGS[first.keyword] ?? first.keyword})`,
      {
        field,
        reason: `failed on the '${TAGS[first.keyword] ?? first.keyword}' rule`,
      },
    )
  }
  return fieldError(struct, path || 'body', TAGS[first.keyword] ?? first.keyword)
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The Go struct name of the route's body in validation messages, e.g. CreateRequest. */
    requestName?: string
  }
}

export function registerV1Errors(app: FastifyInstance): void {
  app.setErrorHandler(
    (error: FastifyError & { validation?: AjvError[]; validationContext?: string }, request, reply) => {
      if (error.validation?.length) {
        const struct = request.routeOptions.config.requestName ?? 'Request'
        return sendV1Problem(
          reply,
          fromValidation(error.validation, error.validationContext ?? 'body', struct),
        )
      }
      const fiscal = fromFastifyError(error)
      if (statusOf(fiscal.code) >= 500) request.log.error({ err: error }, 'request failed')
      return sendV1Problem(reply, fiscal)
    },
  )
}

export function page(query: { limit?: string; offset?: string }): { limit: number; offset: number } {
  const limit = query.limit === undefined ? 20 : Number(query.limit)
  const offset = query.offset === undefined ? 0 : Number(query.offset)
  if (!(limit >= 1 && limit <= 100)) {
    throw new FiscalError(ErrorCode.ValidationError, 'limit must be between 1 and 100', {
      field: 'limit',
      reason: 'must be between 1 and 100',
    })
  }
  if (!(offset >= 0 && offset <= 10_000)) {
    throw new FiscalError(ErrorCode.ValidationError, 'offset must be between 0 and 10000', {
      field: 'offset',
      reason: 'must be between 0 and 10000',
    })
  }
  return { limit, offset }
}
