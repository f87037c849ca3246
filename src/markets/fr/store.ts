import { type Insertable, type Kysely, type Selectable, sql } from 'kysely'
import type { UnitOfWork } from '../../core/ports.ts'
import { type Count, isUniqueViolation, type ModuleDatabase } from '../module.ts'
import type { Chain } from './documents.ts'
import type { ChainSpan, FrConfig, FrEntry, FrStore } from './ports.ts'

// France's tables (migration 016-fr-market) and the FrStore on them.

/** A French cash box's establishment, by cash box id (a /v1 location's id later: no foreign key). */
export interface FrCashboxTable {
  cashbox_id: string
  siret: string
  name: string
  version: number
  updated_at: string
}

/** Every signed entry of every French chain of a queue. */
export interface FrEntryTable {
  queue_id: string
  chain: string
  n: Count
  queue_row: Count
  moment: string
  local_day: string
  reference: string
  copied_reference: string | null
  jws: string
}

export interface FrTables {
  fr_cashboxes: FrCashboxTable
  fr_entries: FrEntryTable
}

const toConfig = (row: Selectable<FrCashboxTable>): FrConfig => ({
  siret: row.siret,
  name: row.name,
  version: row.version,
  updatedAt: row.updated_at,
})

const configOf = (db: Kysely<FrTables>, cashboxId: string) =>
  db
    .selectFrom('fr_cashboxes')
    .selectAll()
    .where('cashbox_id', '=', cashboxId)
    .executeTakeFirst()
    .then((row) => (row ? toConfig(row) : undefined))

const row = (e: FrEntry): Insertable<FrEntryTable> => ({
  queue_id: e.queueId,
  chain: e.chain,
  n: e.n,
  queue_row: e.queueRow,
  moment: e.moment,
  local_day: e.localDay,
  reference: e.reference,
  copied_reference: e.copiedReference,
  jws: e.jws,
})

async function jwsAt(db: Kysely<FrTables>, queueId: string, chain: string, n: number): Promise<string> {
  const found = await db
    .selectFrom('fr_entries')
    .select('jws')
    .where('queue_id', '=', queueId)
    .where('chain', '=', chain)
    .where('n', '=', n)
    .executeTakeFirstOrThrow()
  return found.jws
}

/**
 * On SQLite the statements of every receipt run prepared on the writing connection, as the ledger's do: a
 * Kysely query is compiled and prepared anew each time. Used only inside a unit of work.
 */
function sqliteHotPath(database: ModuleDatabase<FrTables>) {
  const writer = database.sqlite?.writer
  if (!writer) return undefined
  const insert = writer.prepare(
    'insert into fr_entries (queue_id, chain, n, queue_row, moment, local_day, reference, copied_reference, jws) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  )
  const config = writer.prepare<[string], Selectable<FrCashboxTable>>(
    'select * from fr_cashboxes where cashbox_id = ?',
  )
  return {
    insert: (e: FrEntry) =>
      insert.run(
        e.queueId,
        e.chain,
        e.n,
        e.queueRow,
        e.moment,
        e.localDay,
        e.reference,
        e.copiedReference,
        e.jws,
      ),
    config: (cashboxId: string) => {
      const row = config.get(cashboxId)
      return row ? toConfig(row) : undefined
    },
  }
}

export function frStore(database: ModuleDatabase<FrTables>): FrStore {
  const hot = sqliteHotPath(database)
  const putConfig = (cashboxId: string, siret: string, name: string, now: string) =>
    database.transact(async (trx): Promise<FrConfig> => {
      const current = await configOf(trx, cashboxId)
      if (current && current.siret === siret && current.name === name) return current
      if (!current) {
        await trx
          .insertInto('fr_cashboxes')
          .values({ cashbox_id: cashboxId, siret, name, version: 1, updated_at: now })
          .execute()
        return { siret, name, version: 1, updatedAt: now }
      }
      // The version counts up in SQL: two changes at once still get two versions.
      const row = await trx
        .updateTable('fr_cashboxes')
        .set({ siret, name, version: sql<number>`version + 1`, updated_at: now })
        .where('cashbox_id', '=', cashboxId)
        .returningAll()
        .executeTakeFirstOrThrow()
      return toConfig(row)
    })
  return {
    async putConfig(cashboxId, siret, name, now) {
      try {
        return await putConfig(cashboxId, siret, name, now)
      } catch (error) {
        // Another first configuration of the same cash box committed meanwhile: this one is a change of it.
        if (isUniqueViolation(error)) return putConfig(cashboxId, siret, name, now)
        throw error
      }
    },
    config: (cashboxId) => configOf(database.db, cashboxId),
    configIn: async (unit, cashboxId) =>
      hot ? hot.config(cashboxId) : configOf(database.transactionOf(unit), cashboxId),
    async insertEntriesIn(unit: UnitOfWork, entries) {
      if (hot) {
        for (const entry of entries) hot.insert(entry)
        return
      }
      await database.transactionOf(unit).insertInto('fr_entries').values(entries.map(row)).execute()
    },
    async copiesIn(unit, queueId, reference) {
      const trx = database.transactionOf(unit)
      const count = (column: 'reference' | 'copied_reference', chains: string[]) =>
        trx
          .selectFrom('fr_entries')
          .select((eb) => eb.fn.countAll<number>().as('count'))
          .where('queue_id', '=', queueId)
          .where(column, '=', reference)
          .where('chain', 'in', chains)
          .executeTakeFirstOrThrow()
          .then((r) => Number(r.count))
      return {
        originals: await count('reference', ['T', 'I', 'P', 'B', 'X']),
        copies: await count('copied_reference', ['C']),
      }
    },
    async spansIn(unit, queueId, fromDay, toDay) {
      const trx = database.transactionOf(unit)
      const bounds = await trx
        .selectFrom('fr_entries')
        .select((eb) => ['chain', eb.fn.min('n').as('first'), eb.fn.max('n').as('last')])
        .where('queue_id', '=', queueId)
        .where('local_day', '>=', fromDay)
        .where('local_day', '<=', toDay)
        .groupBy('chain')
        .orderBy('chain')
        .execute()
      const spans: ChainSpan[] = []
      for (const bound of bounds) {
        const first = Number(bound.first)
        const last = Number(bound.last)
        spans.push({
          chain: bound.chain as Chain,
          first: { n: first, jws: await jwsAt(trx, queueId, bound.chain, first) },
          last: { n: last, jws: await jwsAt(trx, queueId, bound.chain, last) },
        })
      }
      return spans
    },
    async entries(queueId, chain, first, last, limit) {
      const rows = await database.db
        .selectFrom('fr_entries')
        .select('jws')
        .where('queue_id', '=', queueId)
        .where('chain', '=', chain)
        .where('n', '>=', first)
        .where('n', '<=', last)
        .orderBy('n')
        .limit(limit)
        .execute()
      return rows.map((r) => r.jws)
    },
  }
}
