import type { FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCode, FiscalError } from '../../core/errors.ts'
import type { RateLimiter } from '../../core/rate-limiter.ts'
import type { Caller } from '../../core/v1/accounts.ts'
import type { V1Runtime } from '../../v1-runtime.ts'

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller
  }
}

/** X-RateLimit-* on every answer; 429 with Retry-After once the key's bucket is empty. */
export function applyRateLimit(limiter: RateLimiter, key: string, reply: FastifyReply): void {
  const decision = limiter.take(key)
  reply.header('x-ratelimit-limit', decision.limit)
  reply.header('x-ratelimit-remaining', decision.remaining)
  reply.header('x-ratelimit-reset', decision.resetSeconds)
  if (!decision.allowed) {
    reply.header('retry-after', decision.retryAfterSeconds)
    throw new FiscalError(
      ErrorCode.RateLimited,
      `rate limit exceeded: retry after ${decision.retryAfterSeconds} s (limit ${decision.limit} requests per key)`,
    )
  }
}

/**
 * Runs before the body is read: a request without a valid key learns nothing and writes nothing. Failed
 * checks count against the address's one budget of every surface (api/failed-logins.ts).
 */
export function apiKeyAuth(v1: V1Runtime) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization
    request.caller = await request.server.failedLogins.guard(request, reply, 'headers.authorization', () =>
      v1.accounts.authenticate(Array.isArray(header) ? header[0] : header),
    )
    applyRateLimit(v1.rateLimiter, `key:${request.caller.key.id}`, reply)
  }
}
