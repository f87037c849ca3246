import type { Market } from '../../core/market.ts'
import type { MarketModule } from '../module.ts'
import { checkedConfig } from './configuration.ts'
import { FrenchMarket } from './market.ts'
import * as frMarket from './migrations/016-fr-market.ts'
import type { FrStore } from './ports.ts'
import { type FrServices, frServices } from './services.ts'
import { frStore } from './store.ts'
import { frCredentials } from './keys.ts'

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
  market: ({ stores, clock }): Market & { fr: FrServices } => {
    const fr = frServices(stores.FR, clock)
    return Object.assign(new FrenchMarket(stores.FR), {
      fr,
      // A transactions API location's country_config takes the fields of PUT /fr/v1/cashbox.
      cashboxSettings: {
        check: (settings: Record<string, unknown>) => void checkedConfig(settings),
        apply: async (cashbox: { id: string }, settings: Record<string, unknown>) =>
          void (await fr.configuration.configure(cashbox.id, settings)),
      },
    })
  },
  credentials: frCredentials,
  marketSignsTransactions: true,
  routes: async () => [{ prefix: '/fr/v1', plugin: (await import('./http/index.ts')).frApi }],
  exports: async () => (await import('./exports.ts')).frenchExports,
  commands: async (program, exporter) =>
    (await import('./cli/commands.ts')).registerFrCommands(program, exporter),
  verify: {
    help: [
      '',
      "A French archive (`fiscalbox export archive-fr`) is recognized by its first line: every entry's ES256",
      'signature, the links and numbers of every chain and the signed archive entry are checked',
      '(docs/country-fr.md); the exit code is 1 when anything is wrong.',
    ].join('\n'),
    async run(file, options) {
      const archive = await import('./cli/verify-archive.ts')
      if (!(await archive.isFrArchive(file))) return false
      await archive.verifyArchiveFile(file, options)
      return true
    },
  },
  migrations: { '016-fr-market': frMarket },
}
