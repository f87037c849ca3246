import type { MarketModule } from '../module.ts'
import { ItalianMarket } from './market.ts'
import * as itMarket from './migrations/014-it-market.ts'
import type { ItStore } from './ports.ts'
import { type ItMarket, itServices } from './services.ts'

declare module '../module.ts' {
  interface MarketStores {
    IT: ItStore
  }
}

/** Italy: RT devices (Epson fpmate) on /v2/sign, /it/v1 and `fiscalbox it`. See docs/country-it.md. */
export const italy: MarketModule = {
  country: 'IT',
  market: ({ stores }): ItMarket =>
    Object.assign(new ItalianMarket(stores.IT), { it: itServices(stores.IT) }),
  routes: async () => [{ prefix: '/it/v1', plugin: (await import('../../api/it/index.ts')).itApi }],
  commands: async (program) => (await import('../../cli/italy.ts')).registerItCommands(program),
  migrations: { '014-it-market': itMarket },
}
