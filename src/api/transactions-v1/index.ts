import type { FastifyPluginAsync } from 'fastify'
import type { V1Runtime } from '../../v1-runtime.ts'
import { accountRoutes } from './accounts.ts'
import { apiKeyRoutes } from './api-keys.ts'
import { apiKeyAuth } from './auth.ts'
import { batchRoutes } from './batches.ts'
import { certificateRoutes } from './certificates.ts'
import { registerV1Errors } from './errors.ts'
import { locationRoutes } from './locations.ts'
import { retryQueueRoutes } from './retry-queue.ts'
import { transactionRoutes } from './transactions.ts'
import { webhookRoutes } from './webhooks.ts'

/**
 * The transactions API v1 under /v1 (docs/transactions-api-v1.md). POST /v1/accounts needs no key; every
 * other route is scoped to the account of the request's API key and rate limited per key.
 */
export function transactionsApiV1(v1: V1Runtime): FastifyPluginAsync {
  return async (app) => {
    registerV1Errors(app)
    await app.register(accountRoutes(v1))
    await app.register(async (scoped) => {
      scoped.decorateRequest('caller', null as never)
      scoped.addHook('onRoute', (route) => {
        route.schema = { ...route.schema, security: [{ apiKey: [] }] }
      })
      scoped.addHook('onRequest', apiKeyAuth(v1))
      await scoped.register(apiKeyRoutes(v1))
      await scoped.register(locationRoutes(v1))
      await scoped.register(transactionRoutes(v1))
      await scoped.register(retryQueueRoutes(v1))
      await scoped.register(batchRoutes(v1))
      await scoped.register(webhookRoutes(v1))
      await scoped.register(certificateRoutes(v1))
    })
  }
}
