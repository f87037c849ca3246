import type { MarketModule } from '../module.ts'
import { atCredentials } from './certificates.ts'
import { AustrianMarket } from './index.ts'
import * as at from './migrations/003-at.ts'
import * as kassenIdUnique from './migrations/018-at-kassen-id-unique.ts'
import type { AtStore } from './ports.ts'
import { atStore } from './store.ts'

declare module '../module.ts' {
  interface MarketStores {
    AT: AtStore
  }
}

/** Austria (RKSV): signature devices, DEP7 export, /at/v1 and `fiscalbox at`. See docs/country-at.md. */
export const austria: MarketModule = {
  country: 'AT',
  stores: atStore,
  market: ({ stores, master, keys }) => new AustrianMarket(stores.AT, master, keys),
  credentials: atCredentials,
  routes: async () => [{ prefix: '/at/v1', plugin: (await import('./http/index.ts')).atApi }],
  exports: async () => (await import('./exports.ts')).austrianExports,
  commands: async (program, exporter) =>
    (await import('./cli/commands.ts')).registerAtCommands(program, exporter),
  verify: {
    options: [
      {
        flags: '--keys <file>',
        description: 'DEP7 exports: cryptographicMaterialContainer.json from `fiscalbox export dep7 --keys`',
      },
    ],
    async run(file, options) {
      const dep7 = await import('./cli/verify-dep7.ts')
      if (!(await dep7.isDep7File(file))) return false
      await dep7.verifyDep7File(file, options)
      return true
    },
  },
  migrations: { '003-at': at, '018-at-kassen-id-unique': kassenIdUnique },
}
