import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorCode, FiscalError } from '../../../core/errors.ts'
import { RateLimiter } from '../../../core/rate-limiter.ts'
import type { Runtime } from '../../../runtime.ts'
import { errorResponses } from './schemas.ts'
import { deServicesOf } from '../services.ts'

const Grant = Type.Object({
  access_token: Type.String(),
  access_token_claims: Type.Object({ env: Type.String(), organization_id: Type.String() }),
  access_token_expires_in: Type.Integer({ description: 'seconds' }),
  access_token_expires_at: Type.Integer({ description: 'unix seconds' }),
  refresh_token: Type.String(),
  refresh_token_expires_in: Type.Integer(),
  refresh_token_expires_at: Type.Integer(),
})

/**
 * A POS authenticates about once a day; bursts of attempts from one address are someone guessing
 * secrets. 30 at once, then 1 every 2 seconds.
 */
export const AUTH_RATE = { capacity: 30, refillPerSecond: 0.5 }

export function authRoute(runtime: Runtime): FastifyPluginAsyncTypebox {
  const limiter = new RateLimiter(AUTH_RATE)
  return async (app) => {
    app.post(
      '/auth',
      {
        schema: {
          tags: ['SIGN DE v2'],
          summary: 'Authenticate with api_key/api_secret or a refresh_token',
          security: [],
          // One object, every member typed: with a union, a branch's extra members went unchecked, and a
          // refresh_token that was no string reached the hash (a 500).
          body: Type.Object(
            {
              api_key: Type.Optional(Type.String({ maxLength: 200 })),
              api_secret: Type.Optional(Type.String({ maxLength: 200 })),
              refresh_token: Type.Optional(Type.String({ maxLength: 200 })),
            },
            { description: 'api_key and api_secret, or refresh_token' },
          ),
          response: { 200: Grant, ...errorResponses(400, 401, 429) },
        },
      },
      async (request, reply) => {
        const decision = limiter.take(request.ip)
        if (!decision.allowed)
          throw new FiscalError(
            ErrorCode.RateLimited,
            'too many authentication attempts: wait and retry',
            undefined,
            {
              retryAfter: decision.retryAfterSeconds,
            },
          )
        return request.server.failedLogins.guard(request, reply, 'api_secret', () =>
          deServicesOf(runtime.marketFor).credentials.authenticate(request.body as never),
        )
      },
    )
  }
}
