import type { FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCode, FiscalError } from '../core/errors.ts'
import type { RateLimiter } from '../core/rate-limiter.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The one limit on failed credential checks, shared by every surface (api/app.ts). */
    failedLogins: FailedLogins
  }
}

/**
 * Failed credential checks per client address, one budget for every surface: cash-box credentials (/v2,
 * /at/v1, /de/v1, /es/v1), SIGN DE api keys, refresh and access tokens (/api/v2), and the API keys of /v1.
 * With a budget per surface, a guesser locked out on one would go on guessing on another, and there
 * learn from a 409 (right token, wrong country) what a 401 hides.
 *
 * Each refused check (401) spends a token of the address; an address without tokens is answered 429
 * before its credentials are even compared, so it learns nothing about them until Retry-After has passed.
 * Successful checks spend nothing. The budget lives in this process: N nodes behind a load balancer allow
 * an address up to N times the burst (docs/operations.md).
 */
export class FailedLogins {
  /** `limiter` absent: no limit (in-process test harnesses); `fiscalbox serve` always sets one. */
  constructor(private readonly limiter?: RateLimiter) {}

  /**
   * Runs `check` for the request's address. `field` is the credential the 429 names, as the surface's
   * 401 does.
   */
  async guard<T>(
    request: FastifyRequest,
    reply: FastifyReply,
    field: string,
    check: () => Promise<T>,
  ): Promise<T> {
    const source = request.ip
    const gate = this.limiter?.peek(source)
    if (gate && !gate.allowed) {
      reply.header('retry-after', String(gate.retryAfterSeconds))
      throw new FiscalError(
        ErrorCode.RateLimited,
        `too many failed authentications from this address: retry after ${gate.retryAfterSeconds} s with valid credentials`,
        { field, reason: 'too many failed attempts from this address' },
      )
    }
    try {
      return await check()
    } catch (error) {
      if (error instanceof FiscalError && error.code === ErrorCode.Unauthorized) this.limiter?.take(source)
      throw error
    }
  }
}
