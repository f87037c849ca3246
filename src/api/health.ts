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
      async (request, reply) => {
        try {
          await sql`select 1`.execute(runtime.storage.db)
          return { status: 'ok' as const, database: runtime.storage.engine }
        } catch (error) {
          // The driver's text can name hosts, users or paths: it goes to the log, never to the client.
          request.log.warn({ code: (error as { code?: string }).code }, 'health: database not reachable')
          return reply
            .code(503)
            .header('retry-after', '1')
            .send({
              status: 'unavailable' as const,
              database: runtime.storage.engine,
              reason: 'the database is not reachable',
            })
        }
      },
    )
  }
}
