import type { MarketModule } from '../module.ts'
import { AustrianMarket } from './index.ts'
import * as at from './migrations/003-at.ts'
import type { AtStore } from './ports.ts'

declare module '../module.ts' {
  interface MarketStores {
    AT: AtStore
  }
}

/** Austria (RKSV): signature devices, DEP7 export, /at/v1 and `fiscalbox at`. See docs/country-at.md. */
export const austria: MarketModule = {
  country: 'AT',
  market: ({ stores, master }) => new AustrianMarket(stores.AT, master),
  routes: async () => [{ prefix: '/at/v1', plugin: (await import('../../api/at/index.ts')).atApi }],
  commands: async (program, exporter) =>
    (await import('../../cli/at.ts')).registerAtCommands(program, exporter),
  migrations: { '003-at': at },
}
