import { ErrorCode, FiscalError } from '../errors.ts'
import { JOB_STATUSES, type JobScope } from '../outbox.ts'
import type { AccountStore, JobStore, TransactionStore } from '../v1/ports.ts'
import type { TransactionStatus } from '../v1/model.ts'
import type { Session } from './operators.ts'
import type { CashboxSummary, DashboardReads, JobSpan, JournalFilter } from './ports.ts'

export interface Bucket {
  /** Start of the bucket, ISO 8601 UTC. */
  at: string
  value: number
}

const HOUR_MS = 60 * 60 * 1000

const notFound = () =>
  new FiscalError(ErrorCode.NotFound, 'no such cash box in your account', {
    field: 'cashboxId',
    reason: "must be a cash box of the signed-in operator's account",
  })

/** Counts per hour over the `hours` hours that end with the current one, oldest first. */
export function perHour(moments: readonly string[], now: number, hours: number): Bucket[] {
  const end = Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS
  const start = end - hours * HOUR_MS
  const counts = new Array<number>(hours).fill(0)
  for (const moment of moments) {
    const index = Math.floor((Date.parse(moment) - start) / HOUR_MS)
    if (index >= 0 && index < hours) counts[index] = (counts[index] ?? 0) + 1
  }
  return counts.map((value, i) => ({ at: new Date(start + i * HOUR_MS).toISOString(), value }))
}

/**
 * Jobs open (not yet completed) at the end of each hour: created by then and completed after, or never. A
 * dead job stays counted: it is still to do, by a person.
 */
export function openPerHour(spans: readonly JobSpan[], now: number, hours: number): Bucket[] {
  const end = Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS
  return Array.from({ length: hours }, (_, i) => {
    const at = end - (hours - i) * HOUR_MS
    const point = Math.min(at + HOUR_MS, now)
    const value = spans.filter(
      (span) =>
        Date.parse(span.createdAt) <= point &&
        (span.completedAt === null || Date.parse(span.completedAt) > point),
    ).length
    return { at: new Date(at).toISOString(), value }
  })
}

/**
 * What an operator sees: every read is scoped to the session's account, and a cash box of another account
 * answers as one that does not exist.
 */
export class Dashboard {
  constructor(
    private readonly reads: DashboardReads,
    private readonly locationStore: AccountStore,
    private readonly transactionStore: TransactionStore,
    private readonly jobs: JobStore,
    private readonly clock: () => number = Date.now,
  ) {}

  cashboxes(session: Session): Promise<CashboxSummary[]> {
    return this.reads.cashboxes(session.accountId)
  }

  async cashbox(session: Session, id: string): Promise<CashboxSummary> {
    const cashbox = /^[0-9a-f-]{36}$/i.test(id) ? await this.reads.cashbox(id.toLowerCase()) : undefined
    if (!cashbox || cashbox.accountId !== session.accountId) throw notFound()
    return cashbox
  }

  async journal(session: Session, cashboxId: string, filter: JournalFilter) {
    const cashbox = await this.cashbox(session, cashboxId)
    return { cashbox, ...(await this.reads.journal(cashbox.queueId, filter)) }
  }

  async closings(session: Session, cashboxId: string) {
    const cashbox = await this.cashbox(session, cashboxId)
    return { cashbox, closings: await this.reads.closings(cashbox.queueId, 100) }
  }

  async receiptsPerHour(session: Session, hours = 24): Promise<Bucket[]> {
    const now = this.clock()
    const since = new Date(now - hours * HOUR_MS).toISOString()
    return perHour(await this.reads.receiptMoments(session.accountId, since), now, hours)
  }

  async outboxDepth(session: Session, hours = 24): Promise<Bucket[]> {
    const now = this.clock()
    const since = new Date(now - hours * HOUR_MS).toISOString()
    return openPerHour(await this.reads.jobSpans(session.accountId, since), now, hours)
  }

  /** The account's outbox: counts per kind and status, the oldest due job's age, the dead letters. */
  async outbox(session: Session) {
    const scope: JobScope = { accountId: session.accountId }
    const stats = await this.jobs.stats(scope)
    const dead = await this.jobs.list(scope, { status: 'dead', limit: 50, offset: 0 })
    const oldestDueAgeMs = stats.oldestDueAt === null ? null : Math.max(0, this.clock() - stats.oldestDueAt)
    return { statuses: JOB_STATUSES, stats, oldestDueAgeMs, dead: dead.data, deadTotal: dead.total }
  }

  locations(session: Session, limit: number, offset: number) {
    return this.locationStore.listLocations(session.accountId, limit, offset)
  }

  transactionList(session: Session, filter: { status?: TransactionStatus; limit: number; offset: number }) {
    return this.transactionStore.list(session.accountId, filter)
  }
}
