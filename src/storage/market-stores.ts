import { marketModules } from '../markets/index.ts'
import type { MarketStores } from '../markets/module.ts'
import type { Storage } from './database.ts'
import { moduleDatabase } from './module-database.ts'
import { esCashboxRepository } from './repositories/es-cashboxes.ts'

/** Every market module's stores on the process's database, for the composition root to hand them in. */
export const marketStores = (storage: Storage): MarketStores => {
  const database = moduleDatabase(storage)
  const built = marketModules.flatMap((module) =>
    module.stores ? [[module.country, module.stores(database)] as const] : [],
  )
  return { ...Object.fromEntries(built), ES: esCashboxRepository(storage) } as MarketStores
}
