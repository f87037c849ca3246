import type { Compilable } from 'kysely'
import type { ModuleDatabase } from '../../module.ts'
import type { DeTables } from './tables.ts'

/** A sealed secret of the German market (JWT key, TSS certificate authorities): its public part and the sealed rest. */
export interface StoredSecret {
  publicPart: string
  sealed: string
}

type FirstRow = <R>(query: Compilable<R> & { execute(): Promise<R[]> }) => Promise<R | undefined>

/**
 * The de_secrets table, shared by the credential store and the TSS store. `first` runs a read: by default
 * on the storage's own connection; the TSS store passes its committed-data reader.
 */
export function deSecretStore(
  database: ModuleDatabase<DeTables>,
  first: FirstRow = async (query) => (await query.execute())[0],
) {
  const secret = async (name: string): Promise<StoredSecret | undefined> => {
    const row = await first(database.db.selectFrom('de_secrets').selectAll().where('name', '=', name))
    return row ? { publicPart: row.public_part, sealed: row.sealed } : undefined
  }
  return {
    secret,
    /** Stores the secret unless one of that name exists (another node may race), then answers the stored one. */
    async putSecretIfAbsent(name: string, publicPart: string, sealed: string): Promise<StoredSecret> {
      await database.transact((trx) =>
        trx
          .insertInto('de_secrets')
          .values({ name, public_part: publicPart, sealed, created_at: new Date().toISOString() })
          .onConflict((c) => c.column('name').doNothing())
          .execute(),
      )
      const stored = await secret(name)
      if (!stored) throw new Error(`secret ${name} was not stored`)
      return stored
    },
  }
}
