import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { ErrorCode, FiscalError } from '../core/errors.ts'
import type { Metrics } from '../metrics/metrics.ts'
import { sendProblem } from './errors.ts'

/** Times every answered request of the app by its route template (a 404 counts as `unmatched`). */
export function observeRequests(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    metrics.requestAnswered(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    )
    done()
  })
}

const digest = (text: string) => createHash('sha256').update(text).digest()

/**
 * GET /metrics in the Prometheus text format. With a token, only for `Authorization: Bearer <token>`
 * (compared in constant time); without one only on a listener of its own (METRICS_PORT).
 */
export function metricsRoute(metrics: Metrics, token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token)
  return async (app: FastifyInstance) => {
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      if (expected) {
        const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1]
        if (!given || !timingSafeEqual(digest(given), expected)) {
          reply.header('www-authenticate', 'Bearer realm="metrics"')
          return sendProblem(
            reply,
            new FiscalError(
              ErrorCode.Unauthorized,
              'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>',
            ),
          )
        }
      }
      const text = await metrics.scrape()
      return reply.type(metrics.contentType).send(text)
    })
  }
}
