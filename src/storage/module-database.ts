import type { ModuleDatabase } from '../markets/module.ts'
import type { Storage } from './database.ts'

/**
 * The process's database as the market modules see it: the same connections, with each module's own
 * tables in place of storage's schema. The unit of work of a receipt is the Kysely transaction it runs in.
 */
export const moduleDatabase = <Tables>(storage: Storage): ModuleDatabase<Tables> =>
  ({
    engine: storage.engine,
    db: storage.db,
    transact: storage.transact,
    transactionOf: (unit: unknown) => unit,
    ...(storage.sqlite ? { sqlite: storage.sqlite } : {}),
  }) as unknown as ModuleDatabase<Tables>
