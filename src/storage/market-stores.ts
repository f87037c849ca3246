import { marketModules } from '../markets/index.ts'
import type { MarketStores } from '../markets/module.ts'
import type { Storage } from './database.ts'
import { moduleDatabase } from './module-database.ts'

/** Every market module's stores on the process's database, for the composition root to hand them in. */
export const marketStores = (storage: Storage): MarketStores => {
  const database = moduleDatabase(storage)
  const built = marketModules.flatMap((module) =>
    module.stores ? [[module.country, module.stores(database)] as const] : [],
  )
  // Each module fills its own key of MarketStores (declared in its module.ts) with what its stores built.
  return Object.fromEntries(built) as unknown as MarketStores
}
