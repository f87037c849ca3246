import { sql } from 'kysely'
import type { CashboxSummary, DashboardReads } from '../../core/dashboard/ports.ts'
import type { Storage } from '../database.ts'

const CLOSING_TYPES = ['daily-closing', 'monthly-closing', 'yearly-closing']

/** `%`, `_` and the escape character itself match only themselves in a LIKE prefix. */
const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/** The dashboard's reads (core/dashboard/ports.ts): index ranges by queue, or by account through its cash boxes. */
export function dashboardRepository(storage: Storage): DashboardReads {
  const { db } = storage
  // The newest queue item is the one at the queue's current row.
  const summaries = () =>
    db
      .selectFrom('cashboxes as c')
      .innerJoin('queues as q', 'q.cashbox_id', 'c.id')
      .leftJoin('queue_items as i', (join) =>
        join.onRef('i.queue_id', '=', 'q.id').onRef('i.row', '=', 'q.current_row'),
      )
      .select([
        'c.id',
        'c.account_id',
        'c.label',
        'c.country',
        'c.created_at',
        'q.id as queue_id',
        'q.country_code',
        'q.current_row',
        'q.receipt_numerator',
        'q.start_moment',
        'q.stop_moment',
        'q.reservation',
        'i.ft_moment',
        'i.cb_receipt_reference',
        'i.ft_state',
      ])
  type Row = Awaited<ReturnType<ReturnType<typeof summaries>['executeTakeFirstOrThrow']>>
  const toSummary = (row: Row): CashboxSummary => ({
    id: row.id,
    accountId: row.account_id,
    label: row.label,
    country: row.country,
    queueId: row.queue_id,
    countryCode: row.country_code,
    currentRow: row.current_row,
    receipts: row.receipt_numerator,
    startMoment: row.start_moment,
    stopMoment: row.stop_moment,
    reserved: row.reservation !== null,
    lastReceipt:
      row.ft_moment === null
        ? null
        : { moment: row.ft_moment, reference: row.cb_receipt_reference ?? '', ftState: row.ft_state ?? '' },
  })

  return {
    cashboxes: async (accountId) =>
      (await summaries().where('c.account_id', '=', accountId).orderBy('c.created_at').execute()).map(
        toSummary,
      ),

    cashbox: async (id) => {
      const row = await summaries().where('c.id', '=', id).executeTakeFirst()
      return row && toSummary(row)
    },

    journal: async (queueId, filter) => {
      const base = db
        .selectFrom('queue_items as i')
        .where('i.queue_id', '=', queueId)
        .$if(filter.reference !== undefined, (q) =>
          q.where(
            sql<boolean>`i.cb_receipt_reference like ${likePrefix(filter.reference ?? '')} escape '\\'`,
          ),
        )
        .$if(filter.from !== undefined, (q) => q.where('i.ft_moment', '>=', filter.from as string))
        .$if(filter.to !== undefined, (q) => q.where('i.ft_moment', '<=', filter.to as string))
      const [rows, count] = await Promise.all([
        base
          .leftJoin('receipt_journal as j', 'j.queue_item_id', 'i.id')
          .select([
            'i.id',
            'i.row',
            'i.cb_receipt_reference',
            'i.ft_moment',
            'i.ft_receipt_case',
            'i.ft_state',
            'j.number',
            'j.total',
          ])
          .orderBy('i.row', 'desc')
          .limit(filter.limit)
          .offset(filter.offset)
          .execute(),
        base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
      ])
      return {
        total: Number(count.n),
        rows: rows.map((row) => ({
          queueItemId: row.id,
          row: row.row,
          reference: row.cb_receipt_reference,
          moment: row.ft_moment,
          receiptCase: row.ft_receipt_case,
          ftState: row.ft_state,
          number: row.number,
          total: row.total,
        })),
      }
    },

    closings: async (queueId, limit) =>
      (
        await db
          .selectFrom('action_journal')
          .select(['number', 'moment', 'type', 'message', 'data'])
          .where('queue_id', '=', queueId)
          .where('type', 'in', CLOSING_TYPES)
          .orderBy('number', 'desc')
          .limit(limit)
          .execute()
      ).map((row) => ({ ...row })),

    receiptMoments: async (accountId, since) =>
      (
        await db
          .selectFrom('receipt_journal as j')
          .innerJoin('queues as q', 'q.id', 'j.queue_id')
          .innerJoin('cashboxes as c', 'c.id', 'q.cashbox_id')
          .select('j.moment')
          .where('c.account_id', '=', accountId)
          .where('j.moment', '>=', since)
          .execute()
      ).map((row) => row.moment),

    jobSpans: async (accountId, since) =>
      (
        await db
          .selectFrom('jobs')
          .select(['created_at', 'completed_at', 'status'])
          .where('account_id', '=', accountId)
          .where((eb) => eb.or([eb('completed_at', 'is', null), eb('completed_at', '>=', since)]))
          .execute()
      ).map((row) => ({ createdAt: row.created_at, completedAt: row.completed_at, status: row.status })),
  }
}
