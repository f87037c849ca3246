import type { Selectable } from 'kysely'
import type { OperatorRecord, OperatorStore } from '../../core/dashboard/operators.ts'
import type { Storage } from '../database.ts'
import type { OperatorTable } from '../schema.ts'
import { metaRepository } from './cashboxes.ts'

const toOperator = (row: Selectable<OperatorTable>): OperatorRecord => ({
  id: row.id,
  accountId: row.account_id,
  email: row.email,
  passwordHash: row.password_hash,
  createdAt: row.created_at,
})

export function operatorRepository(storage: Storage): OperatorStore {
  const { db } = storage
  const meta = metaRepository(storage)
  return {
    insert: (operator) =>
      storage.transact(async (trx) => {
        const inserted = await trx
          .insertInto('operators')
          .values({
            id: operator.id,
            account_id: operator.accountId,
            email: operator.email,
            password_hash: operator.passwordHash,
            created_at: operator.createdAt,
          })
          .onConflict((oc) => oc.column('email').doNothing())
          .executeTakeFirst()
        return Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0
      }),
    findByEmail: (email) =>
      db
        .selectFrom('operators')
        .selectAll()
        .where('email', '=', email)
        .executeTakeFirst()
        .then((row) => row && toOperator(row)),
    find: (id) =>
      db
        .selectFrom('operators')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst()
        .then((row) => row && toOperator(row)),
    count: () =>
      db
        .selectFrom('operators')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow()
        .then((row) => Number(row.n)),
    sessionSecret: (candidate) => meta.putIfAbsent('dashboard_session_secret', candidate),
  }
}
