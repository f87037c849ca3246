import type { Selectable, SelectQueryBuilder } from 'kysely'
import type { Database } from '../schema.ts'

/** Tables listed newest first with offset paging: each has created_at and an id that breaks ties. */
type PagedTable = 'transactions' | 'jobs' | 'webhook_deliveries'

/**
 * One page of a filtered table, newest first, with the filter's total count. The count and the page are two
 * queries over the same filter, run side by side.
 */
export async function newestFirstPage<T extends PagedTable>(
  base: SelectQueryBuilder<Database, T, object>,
  limit: number,
  offset: number,
): Promise<{ rows: Selectable<Database[T]>[]; total: number }> {
  // Kysely cannot resolve column names on a generic table; the three tables share these columns.
  const filtered = base as unknown as SelectQueryBuilder<Database, 'jobs', object>
  const [rows, count] = await Promise.all([
    filtered
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .offset(offset)
      .execute(),
    filtered.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ])
  return { rows: rows as unknown as Selectable<Database[T]>[], total: Number(count.n) }
}
