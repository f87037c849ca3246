import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { CashboxRecord } from '../../../core/ports.ts'
import { itServicesOf } from '../services.ts'
import type { Runtime } from '../../../runtime.ts'
import { cashboxAuth, cashboxOfCountry } from '../../../api/possystem-v2/auth.ts'
import { cashboxConfigurationRoutes } from '../../../api/possystem-v2/cashbox-configuration.ts'
import { CashboxHeaders, problemResponses } from '../../../api/possystem-v2/schemas.ts'
import { ItConfig, ItConfigBody, ItHeldReceipts } from './schemas.ts'

const italian = (cashbox: CashboxRecord): CashboxRecord =>
  cashboxOfCountry(cashbox, 'IT', '/it/v1', 'Italian')

const tags = ['Italy (RT devices)']

/**
 * Italy on /v2/sign: the RT device of the cash box of the request's credentials. See docs/country-it.md.
 */
export function itApi(runtime: Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    const it = itServicesOf(runtime.marketFor)
    app.decorateRequest('cashbox', null as never)
    app.addHook('onRequest', cashboxAuth(runtime))

    cashboxConfigurationRoutes(app, {
      tags,
      putSummary: "Configure the Italian cash box's RT device: kind, URL, timeout, VAT rate to department",
      putDescription:
        'Allowed until the device printed the first document of the cash box; afterwards only the same configuration is accepted (409 otherwise).',
      getSummary: "The Italian cash box's RT device configuration",
      body: ItConfigBody,
      view: ItConfig,
      configure: (cashbox, body) => it.configure(italian(cashbox), body),
      describe: (cashbox) => it.describe(italian(cashbox).queueId),
    })

    app.get(
      '/held-receipts',
      {
        schema: {
          tags,
          summary: 'Failed mode: the receipts the cash box held while its RT device could not be reached',
          description:
            'In order, with their state and, once a zero receipt sent them, the numbers the device printed them with.',
          headers: CashboxHeaders,
          response: { 200: ItHeldReceipts, ...problemResponses },
        },
      },
      async (request) => ({ receipts: await it.heldReceipts(italian(request.cashbox).queueId) }),
    )
  }
}
