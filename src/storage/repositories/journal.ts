import type { Storage } from '../database.ts'

export interface Page {
  /** Exclusive cursor: the number (or queue row) after which to read. */
  after: number
  limit: number
  /** Inclusive moment range, ISO 8601 UTC. */
  from?: string
  to?: string
}

/** Read side of the journals, all by (queue, number) or (queue, moment) index ranges. */
export function journalRepository(storage: Storage) {
  const { db } = storage
  return {
    receipts: (queueId: string, page: Page) =>
      db
        .selectFrom('receipt_journal')
        .selectAll()
        .where('queue_id', '=', queueId)
        .where('number', '>', page.after)
        .$if(page.from !== undefined, (q) => q.where('moment', '>=', page.from as string))
        .$if(page.to !== undefined, (q) => q.where('moment', '<=', page.to as string))
        .orderBy('number')
        .limit(page.limit)
        .execute(),

    actions: (queueId: string, page: Page) =>
      db
        .selectFrom('action_journal')
        .selectAll()
        .where('queue_id', '=', queueId)
        .where('number', '>', page.after)
        .$if(page.from !== undefined, (q) => q.where('moment', '>=', page.from as string))
        .$if(page.to !== undefined, (q) => q.where('moment', '<=', page.to as string))
        .orderBy('number')
        .limit(page.limit)
        .execute(),

    queueItems: (queueId: string, page: Page) =>
      db
        .selectFrom('queue_items')
        .selectAll()
        .where('queue_id', '=', queueId)
        .where('row', '>', page.after)
        .$if(page.from !== undefined, (q) => q.where('ft_moment', '>=', page.from as string))
        .$if(page.to !== undefined, (q) => q.where('ft_moment', '<=', page.to as string))
        .orderBy('row')
        .limit(page.limit)
        .execute(),

    /** Receipt journal entries with the request and response they hash, for exports and verification. */
    receiptsWithItems: (queueId: string, after: number, limit: number) =>
      db
        .selectFrom('receipt_journal as j')
        .innerJoin('queue_items as i', 'i.id', 'j.queue_item_id')
        .selectAll('j')
        .select(['i.request', 'i.response'])
        .where('j.queue_id', '=', queueId)
        .where('j.number', '>', after)
        .orderBy('j.number')
        .limit(limit)
        .execute(),

    queue: (queueId: string) =>
      db.selectFrom('queues').selectAll().where('id', '=', queueId).executeTakeFirst(),
  }
}

export type JournalRepository = ReturnType<typeof journalRepository>
