import type { MarketStores } from '../markets/module.ts'
import type { Storage } from './database.ts'
import { atRepository } from './repositories/at.ts'
import { deCredentialRepository } from './repositories/de-credentials.ts'
import { deMarketRepository } from './repositories/de-market.ts'
import { tssRepository } from './repositories/de-tss.ts'
import { esCashboxRepository } from './repositories/es-cashboxes.ts'
import { itRepository } from './repositories/it.ts'

/**
 * Every market module's stores on one database: the composition root hands them to the modules, which
 * only know their ports. A module with stores of its own adds its key to `MarketStores` and a line here.
 */
export const marketStores = (storage: Storage): MarketStores => ({
  AT: atRepository(storage),
  DE: {
    tss: tssRepository(storage),
    credentials: deCredentialRepository(storage),
    market: deMarketRepository(storage),
  },
  ES: esCashboxRepository(storage),
  IT: itRepository(storage),
})
