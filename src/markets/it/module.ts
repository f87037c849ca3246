import type { MarketModule } from '../module.ts'
import { invalid } from '../../core/errors.ts'
import { parseItConfig } from './configuration.ts'
import { ItalianMarket } from './market.ts'
import * as itMarket from './migrations/014-it-market.ts'
import * as itHeldReceipts from './migrations/017-it-held-receipts.ts'
import type { ItStore } from './ports.ts'
import { type ItMarket, itServices } from './services.ts'
import { itStore } from './store.ts'

declare module '../module.ts' {
  interface MarketStores {
    IT: ItStore
  }
}

/**
 * Italy: documents are numbered, stored and sent to the tax agency by an approved RT device, which
 * fiscalbox drives over the Epson fpmate protocol (fpmate/): IT receipts on /v2/sign, /it/v1,
 * `fiscalbox it` and the device simulator, `fiscalbox it-simulator`. See docs/country-it.md.
 */
export const italy: MarketModule = {
  country: 'IT',
  stores: itStore,
  market: ({ stores }): ItMarket => {
    const it = itServices(stores.IT)
    return Object.assign(new ItalianMarket(stores.IT), {
      it,
      // A transactions API location's country_config takes the fields of PUT /it/v1/cashbox.
      cashboxSettings: {
        check: (settings: Record<string, unknown>) => {
          // Failed mode holds receipts until a zero receipt, which the transactions API cannot send; it keeps
          // a transaction whose device is unreachable in its outbox instead (failed, tried again).
          if (parseItConfig(settings).failedMode)
            throw invalid(
              'failedMode',
              'is for /v2 cash boxes: a transactions API location keeps a transaction in its outbox while the device cannot be reached',
            )
        },
        apply: async (cashbox: { queueId: string }, settings: Record<string, unknown>) =>
          void (await it.configure(cashbox, settings)),
      },
    })
  },
  marketSignsTransactions: true,
  routes: async () => [{ prefix: '/it/v1', plugin: (await import('./http/index.ts')).itApi }],
  commands: async (program) => {
    ;(await import('./cli/commands.ts')).registerItCommands(program)
    ;(await import('./cli/simulator.ts')).registerItSimulator(program)
  },
  migrations: { '014-it-market': itMarket, '017-it-held-receipts': itHeldReceipts },
}
