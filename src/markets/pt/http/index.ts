import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { cashboxAuth, cashboxOfCountry } from '../../../api/possystem-v2/auth.ts'
import { cashboxConfigurationRoutes } from '../../../api/possystem-v2/cashbox-configuration.ts'
import type { CashboxRecord } from '../../../core/ports.ts'
import type { Runtime } from '../../../runtime.ts'
import { ptServicesOf } from '../services.ts'
import { PtConfig, PtConfigBody } from './schemas.ts'

const portuguese = (cashbox: CashboxRecord): CashboxRecord =>
  cashboxOfCountry(cashbox, 'PT', '/pt/v1', 'Portuguese')

const tags = ['Portugal (certified invoicing)']

/** Portugal on /v2/sign: the configuration of the cash box of the request's credentials. See docs/country-pt.md. */
export function ptApi(runtime: Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    const pt = ptServicesOf(runtime.marketFor)
    app.decorateRequest('cashbox', null as never)
    app.addHook('onRequest', cashboxAuth(runtime))

    cashboxConfigurationRoutes(app, {
      tags,
      putSummary:
        "Configure the Portuguese cash box: issuer, certificate number, signing key and version, the AT's series and validation codes",
      putDescription:
        'May change at any time; documents keep what they were issued with. A new private key needs a higher keyVersion. The private key is never shown again.',
      getSummary: "The Portuguese cash box's configuration (without the private key)",
      body: PtConfigBody,
      view: PtConfig,
      configure: (cashbox, body) => pt.configure(portuguese(cashbox).id, body),
      describe: (cashbox) => pt.describe(portuguese(cashbox).id),
    })
  }
}
