import { countryIso, State } from '../../core/case-codes.ts'
import type { JobStatus } from '../../core/outbox.ts'
import type { Storage } from '../database.ts'

/** Jobs of one kind in one status that are not completed: how many, and since when the oldest waits. */
export interface OutboxDepth {
  kind: string
  status: Exclude<JobStatus, 'completed'>
  count: number
  /** Epoch milliseconds the oldest of them was created. */
  oldestCreatedAt: number
}

/** What operators watch, read when it is asked for (a metrics scrape), never on a request's path. */
export function operatorReadings(storage: Storage) {
  const { db } = storage
  return {
    /** Every account's jobs that are not completed, by kind and status (the jobs_due index serves it). */
    outboxDepth: async (): Promise<OutboxDepth[]> => {
      const rows = await db
        .selectFrom('jobs')
        .select([
          'kind',
          'status',
          (eb) => eb.fn.countAll<number>().as('n'),
          (eb) => eb.fn.min<string>('created_at').as('oldest'),
        ])
        .where('status', 'in', ['pending', 'processing', 'failed', 'dead'])
        .groupBy(['kind', 'status'])
        .execute()
      return rows.map((row) => ({
        kind: row.kind,
        status: row.status as OutboxDepth['status'],
        count: Number(row.n),
        oldestCreatedAt: Date.parse(row.oldest),
      }))
    },
    /**
     * Queues per country whose last receipt was signed without its signing unit (the unit-failed state
     * flag): an outage that no receipt since has ended.
     */
    openOutages: async (): Promise<Map<string, number>> => {
      const rows = await db
        .selectFrom('queues')
        .innerJoin('queue_items', (join) =>
          join
            .onRef('queue_items.queue_id', '=', 'queues.id')
            .onRef('queue_items.row', '=', 'queues.current_row'),
        )
        .select(['queues.country_code', 'queue_items.ft_state'])
        .execute()
      const open = new Map<string, number>()
      for (const row of rows) {
        const flags = BigInt(row.ft_state) & 0xffff_ffffn
        if (flags === State.Error || (flags & State.SigningUnitFailed) === 0n) continue
        const country = countryIso(row.country_code)
        open.set(country, (open.get(country) ?? 0) + 1)
      }
      return open
    },
  }
}

export type OperatorReadings = ReturnType<typeof operatorReadings>
