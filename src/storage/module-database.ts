import type { ModuleDatabase } from '../markets/module.ts'
import type { Storage } from './database.ts'
import { transactionOf } from './repositories/ledger.ts'
import { moduleOutbox } from './repositories/outbox.ts'

/**
 * The process's database as the market modules see it: the same connections, with each module's own
 * tables in place of storage's schema, and the outbox and queues of the core. The unit of work of a
 * receipt is the Kysely transaction it runs in.
 */
export const moduleDatabase = <Tables>(storage: Storage): ModuleDatabase<Tables> =>
  ({
    engine: storage.engine,
    db: storage.db,
    transact: storage.transact,
    transactionOf,
    ...(storage.sqlite ? { sqlite: storage.sqlite } : {}),
    outbox: moduleOutbox(storage),
    async accountOfQueueIn(unit, queueId) {
      const row = await transactionOf(unit)
        .selectFrom('queues')
        .innerJoin('cashboxes', 'cashboxes.id', 'queues.cashbox_id')
        .select('cashboxes.account_id')
        .where('queues.id', '=', queueId)
        .executeTakeFirstOrThrow()
      return row.account_id
    },
  }) as Omit<ModuleDatabase<Tables>, 'db' | 'transact' | 'transactionOf'> as unknown as ModuleDatabase<Tables>
