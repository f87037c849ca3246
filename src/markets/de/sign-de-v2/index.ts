import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCode, FiscalError } from '../../../core/errors.ts'
import type { Caller } from '../tss/tss-service.ts'
import type { Runtime } from '../../../runtime.ts'
import { fromFastifyError, statusOf } from '../../../api/errors.ts'
import { DeErrorCode } from '../errors.ts'
import { authRoute } from './auth.ts'
import { clientRoutes } from './clients.ts'
import { exportRoutes } from './exports.ts'
import { rejectUnknownProperties } from './strict-body.ts'
import { transactionRoutes } from './transactions.ts'
import { tssRoutes } from './tss.ts'
import { deServicesOf } from '../services.ts'

declare module 'fastify' {
  interface FastifyRequest {
    signDeCaller: Caller
  }
}

/** SIGN DE codes for the errors every surface shares. */
const GENERIC_CODES: Partial<Record<string, string>> = {
  [ErrorCode.ValidationError]: 'E_VALIDATION',
  [ErrorCode.Unauthorized]: 'E_UNAUTHORIZED',
  [ErrorCode.NotFound]: 'E_NOT_FOUND',
  [ErrorCode.PayloadTooLarge]: 'E_PAYLOAD_TOO_LARGE',
  [ErrorCode.UnsupportedMediaType]: 'E_UNSUPPORTED_MEDIA_TYPE',
  [ErrorCode.RateLimited]: 'E_RATE_LIMITED',
  [ErrorCode.ServiceUnavailable]: 'E_SERVICE_UNAVAILABLE',
  // A lost database is the documented E_SERVICE_UNAVAILABLE (with Retry-After), not an internal error.
  [ErrorCode.DatabaseUnavailable]: 'E_SERVICE_UNAVAILABLE',
  [ErrorCode.Internal]: 'E_INTERNAL',
}

/** The SIGN DE error body: {status_code, error, code, message}. */
export function sendSignDeError(reply: FastifyReply, error: FiscalError): FastifyReply {
  const status = statusOf(error.code)
  const code =
    (error.extra?.signDeCode as string | undefined) ??
    (error.code.startsWith('E_') ? error.code : (GENERIC_CODES[error.code] ?? 'E_INTERNAL'))
  // The failed-login gate has set its own Retry-After already.
  if ((status === 429 || status === 503) && !reply.hasHeader('retry-after'))
    reply.header('retry-after', String(error.extra?.retryAfter ?? 1))
  if (error.code === DeErrorCode.ExportNotCompleted) reply.header('retry-after', '60')
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send({ status_code: status, error: STATUS_CODES[status] ?? 'Error', code, message: error.message })
}

/**
 * The SIGN DE v2 API under /api/v2: the cloud-TSS API a German POS already speaks, served by the software
 * TSS (markets/de/tss). Every route but POST /auth needs a Bearer access token; the token's organization
 * scopes every TSS, client, transaction and export.
 */
export function signDeApiV2(runtime: Runtime): FastifyPluginAsync {
  return async (app) => {
    app.decorateRequest('signDeCaller', null as never)
    app.addHook('onRoute', rejectUnknownProperties)
    // In the OpenAPI document: these routes take the Bearer token of POST /auth, not the cash box headers.
    app.addHook('onRoute', (route) => {
      if (route.schema && !route.schema.security) route.schema.security = [{ signDeBearer: [] }]
    })
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const fiscal = fromFastifyError(error)
      if (fiscal.code === ErrorCode.DatabaseUnavailable)
        request.log.warn({ code: (error as { code?: string }).code }, 'database unavailable')
      else if (statusOf(fiscal.code) >= 500) request.log.error({ err: error }, 'request failed')
      return sendSignDeError(reply, fiscal)
    })
    app.setNotFoundHandler((request, reply) =>
      sendSignDeError(
        reply,
        new FiscalError(ErrorCode.NotFound, `no route ${request.method} ${request.url.split('?')[0]}`),
      ),
    )
    app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.routeOptions.url === '/api/v2/auth') return
      request.signDeCaller = await request.server.failedLogins.guard(
        request,
        reply,
        'headers.authorization',
        async () => {
          const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')
          if (!match)
            throw new FiscalError(
              ErrorCode.Unauthorized,
              'send Authorization: Bearer <access_token> (POST /api/v2/auth)',
              undefined,
              { signDeCode: 'E_UNAUTHORIZED' },
            )
          return deServicesOf(runtime.marketFor).credentials.verify(match[1] as string)
        },
      )
    })
    await app.register(authRoute(runtime))
    await app.register(tssRoutes(runtime))
    await app.register(clientRoutes(runtime))
    await app.register(transactionRoutes(runtime))
    await app.register(exportRoutes(runtime))
  }
}
