import type { FastifyRequest } from 'fastify'

/** x-operation-lifetime when the POS sends none (POS System API v2). */
export const DEFAULT_LIFETIME_MS = 15_000

/** The operation headers of a request that passed the OperationHeaders schema: the id, lower case. */
export function operationOf(request: FastifyRequest): { operationId: string; lifetimeMs: number } {
  const headers = request.headers as Record<string, string | undefined>
  const lifetime = headers['x-operation-lifetime']
  return {
    operationId: String(headers['x-operation-id']).toLowerCase(),
    lifetimeMs: lifetime === undefined ? DEFAULT_LIFETIME_MS : Number(lifetime),
  }
}
