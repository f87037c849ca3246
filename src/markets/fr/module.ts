import type { Market } from '../../core/market.ts'
import type { MarketModule } from '../module.ts'
import { FrArchives } from './archive.ts'
import { FrenchMarket } from './market.ts'
import * as frMarket from './migrations/016-fr-market.ts'
import type { FrStore } from './ports.ts'
import { frStore } from './store.ts'

declare module '../module.ts' {
  interface MarketStores {
    FR: FrStore
  }
}

/**
 * France (CGI art. 286 I 3° bis): chained JWS entries per document family, grand totals, closings,
 * duplicates, the technical event journal and signed archives (`fiscalbox export archive-fr`). See
 * docs/country-fr.md.
 */
export const france: MarketModule = {
  country: 'FR',
  stores: frStore,
  market: ({ stores }): Market & { archives: FrArchives } =>
    Object.assign(new FrenchMarket(stores.FR), { archives: new FrArchives(stores.FR) }),
  commands: async (_program, exporter) => (await import('./cli/commands.ts')).registerFrCommands(exporter),
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
