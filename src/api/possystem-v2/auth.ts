import type { FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCode, FiscalError } from '../../core/errors.ts'
import type { CashboxRecord } from '../../core/ports.ts'
import type { RateLimiter } from '../../core/rate-limiter.ts'
import type { Runtime } from '../../runtime.ts'

declare module 'fastify' {
  interface FastifyRequest {
    cashbox: CashboxRecord
  }
}

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/**
 * Runs before the body is read: a request with bad credentials learns nothing and writes nothing.
 *
 * `failures` (optional) limits failed authentications per client address: each 401 spends a token, and a
 * source without tokens is answered 429 before its credentials are even compared, so that a guesser gets
 * no answer about them at all until Retry-After has passed. Successful requests spend nothing.
 */
export function cashboxAuth(runtime: Runtime, failures?: RateLimiter) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const source = request.ip
    if (failures) {
      const gate = failures.peek(source)
      if (!gate.allowed) {
        reply.header('retry-after', String(gate.retryAfterSeconds))
        throw new FiscalError(
          ErrorCode.RateLimited,
          `too many failed authentications from this address: retry after ${gate.retryAfterSeconds} s with valid credentials`,
          { field: 'headers.x-cashbox-accesstoken', reason: 'too many failed attempts from this address' },
        )
      }
    }
    try {
      request.cashbox = await runtime.cashboxes.authenticate(
        header(request, 'x-cashbox-id'),
        header(request, 'x-cashbox-accesstoken'),
      )
    } catch (error) {
      if (failures && error instanceof FiscalError && error.code === ErrorCode.Unauthorized) {
        failures.take(source)
      }
      throw error
    }
  }
}

/**
 * The guard of a country's own endpoints (/at/v1, /de/v1, /es/v1): the authenticated cash box must be of
 * that country, or the request is refused (409) before anything is read or written.
 */
export function cashboxOfCountry(
  cashbox: CashboxRecord,
  country: string,
  surface: string,
  countryAdjective: string,
): CashboxRecord {
  if (cashbox.country !== country) {
    throw new FiscalError(
      ErrorCode.MarketNotConfigured,
      `this cash box's country is ${cashbox.country}: the ${surface} endpoints are for cash boxes created with --country ${country}`,
      {
        field: 'headers.x-cashbox-id',
        reason: `the ${surface} endpoints serve ${countryAdjective} cash boxes only`,
      },
    )
  }
  return cashbox
}
