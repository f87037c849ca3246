import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { RateLimiter } from '../core/rate-limiter.ts'
import { marketModules } from '../markets/index.ts'
import type { Runtime } from '../runtime.ts'
import { refuseAnnouncedOversize } from './body-limit.ts'
import { dashboard, type DashboardOptions } from './dashboard/index.ts'
import { fromFastifyError, invalidPath, registerErrorHandling, sendProblem } from './errors.ts'
import { FailedLogins } from './failed-logins.ts'
import { healthRoute } from './health.ts'
import { parseJsonBody, rejectInvalidUtf8 } from './json-body.ts'
import { metricsRoute, observeRequests } from './metrics.ts'
import { posSystemApiV2 } from './possystem-v2/index.ts'
import { receiptDocuments } from './receipt-documents.ts'
import { transactionsApiV1 } from './transactions-v1/index.ts'

export interface AppOptions {
  bodyLimit: number
  logger: FastifyServerOptions['logger']
  /**
   * Failed authentications per client address, on every surface together (api/failed-logins.ts): `burst`
   * at once, then `perMinute`; past that 429 with Retry-After. Absent: no limit (in-process test
   * harnesses); `fiscalbox serve` always sets it.
   */
  authFailures?: { burst: number; perMinute: number }
  /**
   * The public base of DocumentURL links (PUBLIC_URL, or the address `fiscalbox serve` listens on), asked
   * when a link is made. Absent: http://localhost (in-process test harnesses). Never the Host header.
   */
  publicUrl?: () => string
  /** The operators' dashboard at /dashboard (api/dashboard/): where exports go, the cookies' Secure attribute. */
  dashboard?: DashboardOptions
  /** Serves GET /metrics on this app for `Authorization: Bearer <token>` (METRICS_TOKEN without METRICS_PORT). */
  metricsToken?: string
}

/** Header values that must never reach a log line. */
const REDACT = [
  'req.headers["x-cashbox-accesstoken"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
]

export async function buildApp(runtime: Runtime, options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: options.bodyLimit,
    logger:
      options.logger === false
        ? false
        : { ...(typeof options.logger === 'object' ? options.logger : {}), redact: REDACT },
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    // Fastify answers a path it cannot decode (/v2/%zz) before any route or error handler: in its own shape.
    frameworkErrors: (error, _request, reply) => {
      void sendProblem(
        reply,
        error.code === 'FST_ERR_BAD_URL'
          ? invalidPath('must be a valid percent-encoded path')
          : fromFastifyError(error),
      )
    },
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.addContentTypeParser(/^application\/(.+\+)?json/, { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(rejectInvalidUtf8(body as Buffer)))
    } catch (error) {
      done(error as Error)
    }
  })
  registerErrorHandling(app)
  observeRequests(app, runtime.metrics)
  app.addHook('onRequest', refuseAnnouncedOversize(options.bodyLimit))
  app.decorate(
    'failedLogins',
    new FailedLogins(
      options.authFailures &&
        new RateLimiter({
          capacity: options.authFailures.burst,
          refillPerSecond: options.authFailures.perMinute / 60,
        }),
    ),
  )

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'fiscalbox',
        version: '0.1.0',
        description:
          'Fiscalization middleware: POS System API v2. See docs/ in the repository for each surface and country.',
      },
      components: {
        securitySchemes: {
          cashboxId: { type: 'apiKey', in: 'header', name: 'x-cashbox-id' },
          cashboxToken: { type: 'apiKey', in: 'header', name: 'x-cashbox-accesstoken' },
          signDeBearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'fsk_test_… or fsk_live_… (transactions API v1)',
          },
        },
      },
      security: [{ cashboxId: [], cashboxToken: [] }],
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  await app.register(healthRoute(runtime))
  if (options.metricsToken) await app.register(metricsRoute(runtime.metrics, options.metricsToken))
  const publicUrl = options.publicUrl ?? (() => 'http://localhost')
  await app.register(posSystemApiV2(runtime, publicUrl), { prefix: '/v2' })
  await app.register(receiptDocuments(runtime))
  for (const module of marketModules) {
    for (const { prefix, plugin } of (await module.routes?.()) ?? []) {
      await app.register(plugin(runtime), { prefix })
    }
  }
  await app.register(transactionsApiV1(runtime.v1), { prefix: '/v1' })
  await app.register(dashboard(runtime, options.dashboard))
  return app
}
