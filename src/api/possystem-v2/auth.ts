import type { FastifyRequest } from 'fastify'
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

/** Runs before the body is read: a request with bad credentials learns nothing and writes nothing. */
export function cashboxAuth(runtime: Runtime) {
  return async (request: FastifyRequest): Promise<void> => {
    request.cashbox = await runtime.cashboxes.authenticate(
      header(request, 'x-cashbox-id'),
      header(request, 'x-cashbox-accesstoken'),
    )
  }
}
