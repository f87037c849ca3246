import type { FastifyPluginAsync } from 'fastify'
import type { Runtime } from '../../runtime.ts'
import { cashboxAuth } from './auth.ts'
import { configurationRoute } from './configuration.ts'
import { echoRoute } from './echo.ts'
import { issueRoutes } from './issue.ts'
import { journalRoutes } from './journal.ts'
import { payRoutes } from './pay.ts'
import { signRoute } from './sign.ts'

/** The POS System API v2 under /v2: every route is scoped to the cash box of the request's credentials. */
export function posSystemApiV2(runtime: Runtime, publicUrl: () => string): FastifyPluginAsync {
  return async (app) => {
    app.decorateRequest('cashbox', null as never)
    app.addHook('onRequest', cashboxAuth(runtime))
    await app.register(echoRoute)
    await app.register(signRoute(runtime))
    await app.register(journalRoutes(runtime))
    await app.register(payRoutes(runtime))
    await app.register(issueRoutes(runtime, publicUrl))
    await app.register(configurationRoute(runtime))
  }
}
