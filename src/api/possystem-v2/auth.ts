import type { FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCode, FiscalError } from '../../core/errors.ts'
import type { CashboxRecord } from '../../core/ports.ts'
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
 * Runs before the body is read: a request with bad credentials learns nothing and writes nothing. Failed
 * checks count against the address's one budget of every surface (api/failed-logins.ts).
 */
export function cashboxAuth(runtime: Runtime) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    request.cashbox = await request.server.failedLogins.guard(
      request,
      reply,
      'headers.x-cashbox-accesstoken',
      () =>
        runtime.cashboxes.authenticate(
          header(request, 'x-cashbox-id'),
          header(request, 'x-cashbox-accesstoken'),
        ),
    )
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
