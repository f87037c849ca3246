import { Kysely, SqliteDialect } from 'kysely'
import type { Storage } from '../database.ts'
import type { Database } from '../schema.ts'

const readers = new WeakMap<Storage, Kysely<Database>>()

/**
 * Where the v1 API reads outside a unit of work. On SQLite that is the read-only connection: it sees only
 * committed data (WAL) and does not queue behind the group commit, which holds the writing connection
 * from begin to fsync. Never destroyed here: storage.close() closes the connection.
 */
export function readsOf(storage: Storage): Kysely<Database> {
  if (!storage.sqlite) return storage.db
  let reader = readers.get(storage)
  if (!reader) {
    reader = new Kysely<Database>({ dialect: new SqliteDialect({ database: storage.sqlite.reader }) })
    readers.set(storage, reader)
  }
  return reader
}
