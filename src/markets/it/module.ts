import type { MarketModule } from '../module.ts'
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
  market: ({ stores }): ItMarket =>
    Object.assign(new ItalianMarket(stores.IT), { it: itServices(stores.IT) }),
  routes: async () => [{ prefix: '/it/v1', plugin: (await import('./http/index.ts')).itApi }],
  commands: async (program) => {
    ;(await import('./cli/commands.ts')).registerItCommands(program)
    ;(await import('./cli/simulator.ts')).registerItSimulator(program)
  },
  migrations: { '014-it-market': itMarket, '017-it-held-receipts': itHeldReceipts },
}
