import type { Selectable, SelectQueryBuilder } from 'kysely'
import type { Database } from '../schema.ts'

/** Tables listed newest first with offset paging: each has created_at and an id that breaks ties. */
type PagedTable = 'transactions' | 'jobs' | 'webhook_deliveries'

/**
 * One page of a filtered table, newest first, with the filter's total count. The total comes with the page
 * (a window count in the same statement), so both describe one snapshot: two queries side by side could
 * see a row change between them (a job turning dead counted but not listed). Only a page past the end
 * needs a count of its own.
 */
export async function newestFirstPage<T extends PagedTable>(
  base: SelectQueryBuilder<Database, T, object>,
  limit: number,
  offset: number,
): Promise<{ rows: Selectable<Database[T]>[]; total: number }> {
  // Kysely cannot resolve column names on a generic table; the three tables share these columns.
  const filtered = base as unknown as SelectQueryBuilder<Database, 'jobs', object>
  const page = await filtered
    .selectAll()
    .select((eb) => eb.fn.countAll<number | string>().over().as('page_total'))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute()
  const rows = page.map(({ page_total: _total, ...row }) => row)
  const first = page[0]
  const total = first
    ? Number(first.page_total)
    : offset === 0
      ? 0
      : Number((await filtered.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  return { rows: rows as unknown as Selectable<Database[T]>[], total }
}
