import type { Selectable } from 'kysely'
import type { CashboxRecord, CashboxStore, NewCashbox, SigningKeyRecord } from '../../core/ports.ts'
import type { Storage } from '../database.ts'
import type { CashboxTable } from '../schema.ts'

const toCashbox = (row: Selectable<CashboxTable> & { queue_id: string }): CashboxRecord => ({
  id: row.id,
  accountId: row.account_id,
  country: row.country,
  label: row.label,
  accessTokenHash: row.access_token_hash,
  createdAt: row.created_at,
  queueId: row.queue_id,
})

export function cashboxRepository(storage: Storage): CashboxStore {
  const { db } = storage
  const withQueue = () =>
    db
      .selectFrom('cashboxes')
      .innerJoin('queues', 'queues.cashbox_id', 'cashboxes.id')
      .selectAll('cashboxes')
      .select('queues.id as queue_id')

  return {
    async insert(n: NewCashbox): Promise<void> {
      const at = n.cashbox.createdAt
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('accounts')
          .values({ id: n.cashbox.accountId, name: n.accountName, created_at: at })
          .onConflict((c) => c.column('id').doNothing())
          .execute()
        await trx
          .insertInto('cashboxes')
          .values({
            id: n.cashbox.id,
            account_id: n.cashbox.accountId,
            country: n.cashbox.country,
            label: n.cashbox.label,
            access_token_hash: n.cashbox.accessTokenHash,
            created_at: at,
          })
          .execute()
        await trx
          .insertInto('queues')
          .values({
            id: n.queue.id,
            cashbox_id: n.cashbox.id,
            country_code: n.queue.countryCode,
            current_row: 0,
            receipt_numerator: 0,
            action_numerator: 0,
            last_receipt_hash: n.queue.genesisHash,
            start_moment: null,
            stop_moment: null,
            totalizers: JSON.stringify(n.queue.totalizers),
            created_at: at,
          })
          .execute()
        await trx
          .insertInto('signing_keys')
          .values({
            queue_id: n.key.queueId,
            algorithm: n.key.algorithm,
            public_key: n.key.publicKey,
            private_key_encrypted: n.key.privateKeyEncrypted,
            created_at: at,
          })
          .execute()
      })
    },

    find: (id: string): Promise<CashboxRecord | undefined> =>
      withQueue()
        .where('cashboxes.id', '=', id)
        .executeTakeFirst()
        .then((row) => (row ? toCashbox(row) : undefined)),

    list: (): Promise<CashboxRecord[]> =>
      withQueue()
        .orderBy('cashboxes.created_at')
        .execute()
        .then((rows) => rows.map(toCashbox)),

    signingKey: (queueId: string): Promise<SigningKeyRecord | undefined> =>
      db
        .selectFrom('signing_keys')
        .selectAll()
        .where('queue_id', '=', queueId)
        .executeTakeFirst()
        .then((row) =>
          row
            ? {
                queueId: row.queue_id,
                algorithm: row.algorithm,
                publicKey: row.public_key,
                privateKeyEncrypted: row.private_key_encrypted,
              }
            : undefined,
        ),
  }
}

export function metaRepository(storage: Storage) {
  return {
    get: (key: string) =>
      storage.db
        .selectFrom('meta')
        .select('value')
        .where('key', '=', key)
        .executeTakeFirst()
        .then((row) => row?.value),
    /** Writes the value unless the key exists, and returns the value that is stored either way. */
    async putIfAbsent(key: string, value: string): Promise<string> {
      await storage.db
        .insertInto('meta')
        .values({ key, value })
        .onConflict((c) => c.column('key').doNothing())
        .execute()
      const stored = await storage.db
        .selectFrom('meta')
        .select('value')
        .where('key', '=', key)
        .executeTakeFirstOrThrow()
      return stored.value
    },
  }
}
