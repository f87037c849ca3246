import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { sql } from 'kysely'
import { Type } from 'typebox'
import type { Runtime } from '../runtime.ts'

/** Liveness and database readiness; a load balancer takes a node out on 503. */
export function healthRoute(runtime: Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/health',
      {
        schema: {
          summary: 'Liveness and database readiness',
          response: {
            200: Type.Object({ status: Type.Literal('ok'), database: Type.String() }),
            503: Type.Object({
              status: Type.Literal('unavailable'),
              database: Type.String(),
              reason: Type.String(),
            }),
          },
        },
      },
      async (_request, reply) => {
        try {
          await sql`select 1`.execute(runtime.storage.db)
          return { status: 'ok' as const, database: runtime.storage.engine }
        } catch (error) {
          return reply.code(503).send({
            status: 'unavailable' as const,
            database: runtime.storage.engine,
            reason: (error as Error).message,
          })
        }
      },
    )
  }
}
