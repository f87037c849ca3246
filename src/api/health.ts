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
        const { storage } = runtime
        try {
          await sql`select 1`.execute(storage.db)
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
        // Only after a write failed: a probe that writes on every call would cost every node a commit per
        // health check. A store that can write again clears the failure with this very write.
        if (storage.writeFailure()) await storage.probeWrite().catch(() => {})
        const failure = storage.writeFailure()
        if (failure) {
          request.log.warn({ code: failure }, 'health: the database cannot write')
          return reply
            .code(503)
            .header('retry-after', '1')
            .send({
              status: 'unavailable' as const,
              database: storage.engine,
              reason: 'the database cannot write (the disk may be full)',
            })
        }
        return { status: 'ok' as const, database: storage.engine }
      },
    )
  }
}
