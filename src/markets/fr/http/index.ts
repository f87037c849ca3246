import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { cashboxAuth, cashboxOfCountry } from '../../../api/possystem-v2/auth.ts'
import { cashboxConfigurationRoutes } from '../../../api/possystem-v2/cashbox-configuration.ts'
import type { CashboxRecord } from '../../../core/ports.ts'
import type { Runtime } from '../../../runtime.ts'
import { frServicesOf } from '../services.ts'
import { FrConfigBody, FrConfigView } from './schemas.ts'

const french = (cashbox: CashboxRecord): CashboxRecord => cashboxOfCountry(cashbox, 'FR', '/fr/v1', 'French')

/** France: the establishment (SIRET, name) of the cash box of the request's credentials. See docs/country-fr.md. */
export function frApi(runtime: Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    const { configuration } = frServicesOf(runtime.marketFor)
    app.decorateRequest('cashbox', null as never)
    app.addHook('onRequest', cashboxAuth(runtime))
    cashboxConfigurationRoutes(app, {
      tags: ['France'],
      putSummary: "Set the French cash box's establishment: SIRET and business name",
      putDescription:
        'May change at any time: each change gets the next version, and the next receipt of the cash box journals it in the technical event journal (chain L) and signs the new SIRET.',
      getSummary: "The French cash box's establishment",
      body: FrConfigBody,
      view: FrConfigView,
      configure: (cashbox, body) => configuration.configure(french(cashbox).id, body),
      describe: (cashbox) => configuration.describe(french(cashbox).id),
    })
  }
}
