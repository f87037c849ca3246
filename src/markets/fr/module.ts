import type { Market } from '../../core/market.ts'
import type { MarketModule } from '../module.ts'
import { FrenchMarket } from './market.ts'
import * as frMarket from './migrations/016-fr-market.ts'
import type { FrStore } from './ports.ts'
import { type FrServices, frServices } from './services.ts'
import { frStore } from './store.ts'

declare module '../module.ts' {
  interface MarketStores {
    FR: FrStore
  }
}

/**
 * France (CGI art. 286 I 3° bis): chained JWS entries per document family, grand totals, closings,
 * duplicates, the technical event journal, the establishment (/fr/v1, `fiscalbox fr`) and signed archives
 * (`fiscalbox export archive-fr`). See docs/country-fr.md.
 */
export const france: MarketModule = {
  country: 'FR',
  stores: frStore,
  market: ({ stores, clock }): Market & { fr: FrServices } =>
    Object.assign(new FrenchMarket(stores.FR), { fr: frServices(stores.FR, clock) }),
  routes: async () => [{ prefix: '/fr/v1', plugin: (await import('./http/index.ts')).frApi }],
  commands: async (program, exporter) =>
    (await import('./cli/commands.ts')).registerFrCommands(program, exporter),
  verify: {
    help: '\nFrench archives (`fiscalbox export archive-fr`) are recognized by their first line.',
    async run(file, options) {
      const archive = await import('./cli/verify-archive.ts')
      if (!(await archive.isFrArchive(file))) return false
      await archive.verifyArchiveFile(file, options)
      return true
    },
  },
  migrations: { '016-fr-market': frMarket },
}
