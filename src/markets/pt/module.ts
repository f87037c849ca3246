import type { MarketModule } from '../module.ts'
import { PortugueseMarket } from './market.ts'
import * as ptMarket from './migrations/017-pt-market.ts'
import type { PtStore } from './ports.ts'
import { ptStore } from './store.ts'
import { ptCredentials } from './keys.ts'

declare module '../module.ts' {
  interface MarketStores {
    PT: PtStore
  }
}

/**
 * Portugal (certified invoicing software): signed and chained documents with ATCUD and QR code on
 * /v2/sign, /pt/v1, `fiscalbox pt`, `fiscalbox export saft-pt` and its `fiscalbox verify`. See
 * docs/country-pt.md.
 */
export const portugal: MarketModule = {
  country: 'PT',
  stores: ptStore,
  market: ({ stores, master }) => new PortugueseMarket(stores.PT, master),
  credentials: ptCredentials,
  marketSignsTransactions: true,
  routes: async () => [{ prefix: '/pt/v1', plugin: (await import('./http/index.ts')).ptApi }],
  exports: async () => (await import('./exports.ts')).portugueseExports,
  commands: async (program, exporter) =>
    (await import('./cli/commands.ts')).registerPtCommands(program, exporter),
  verify: {
    options: [
      {
        flags: '--public-key <file>',
        description:
          'SAF-T (PT) files: the PEM public key of the cash box (`fiscalbox export saft-pt --public-key`)',
      },
    ],
    async run(file, options) {
      const saft = await import('./cli/verify-saft.ts')
      if (!(await saft.isSaftPtFile(file))) return false
      await saft.verifySaftPtFile(file, options)
      return true
    },
  },
  migrations: { '017-pt-market': ptMarket },
}
