import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { CredentialInventory } from '../core/credentials.ts'
import type { ReceiptOutcome, SignObserver } from '../core/sign-observer.ts'
import type { PoolUse } from '../storage/database.ts'
import type { OperatorReadings } from '../storage/repositories/operator-readings.ts'

/** What the gauges read at scrape time; nothing of it runs on a request's path. */
export interface ScrapeSources {
  readings: OperatorReadings
  poolUse?: () => PoolUse
  credentials: CredentialInventory
  /** Epoch milliseconds (the outbox's clock). */
  clock: () => number
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * The process's Prometheus metrics (docs/operations.md lists them), one registry per runtime. Counters and
 * histograms are updated on the hot path, so their labelled children are cached; the gauges ask the
 * database only when /metrics is scraped.
 */
export class Metrics implements SignObserver {
  readonly registry = new Registry()
  private readonly requests = new Histogram({
    name: 'fiscalbox_http_request_duration_seconds',
    help: 'HTTP requests by method, route (its template) and status: latency, and in _count the number',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  })
  private readonly receipts = new Counter({
    name: 'fiscalbox_receipts_total',
    help: 'Receipts /v2/sign committed, by country and outcome (signed, signing_unit_failed, late_signing, rejected)',
    labelNames: ['country', 'outcome'] as const,
    registers: [this.registry],
  })
  private readonly unitFailures = new Counter({
    name: 'fiscalbox_signing_unit_failures_total',
    help: 'Receipts signed without their signing unit (TSS, signature device, RT printer) because it failed',
    labelNames: ['country'] as const,
    registers: [this.registry],
  })
  private readonly batchSizes = new Histogram({
    name: 'fiscalbox_db_commit_units',
    help: 'Units of work per durable commit (SQLite group commit batches; 1 on PostgreSQL)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [this.registry],
  })
  private readonly commitLatency = new Histogram({
    name: 'fiscalbox_db_commit_duration_seconds',
    help: 'Seconds from a transaction begin to its commit on disk (SQLite: a group commit batch with its fsync)',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  })
  private readonly requestChildren = new Map<string, Histogram.Internal<'method' | 'route' | 'status'>>()
  private readonly receiptChildren = new Map<string, Counter.Internal>()

  /** Observes one answered request; `route` is the route's template, never the raw URL. */
  requestAnswered(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`
    let child = this.requestChildren.get(key)
    if (!child) {
      child = this.requests.labels(method, route, String(status))
      this.requestChildren.set(key, child)
    }
    child.observe(seconds)
  }

  receiptConcluded(country: string, outcome: ReceiptOutcome): void {
    const key = `${country} ${outcome}`
    let child = this.receiptChildren.get(key)
    if (!child) {
      child = this.receipts.labels(country, outcome)
      this.receiptChildren.set(key, child)
    }
    child.inc()
    if (outcome === 'signing_unit_failed') this.unitFailures.labels(country).inc()
  }

  readonly commitObserved = (units: number, seconds: number): void => {
    this.batchSizes.observe(units)
    this.commitLatency.observe(seconds)
  }

  /** The gauges that read their value when scraped. */
  watch(sources: ScrapeSources): void {
    const registers = [this.registry]
    // Three gauges read the same outbox rows: one query per scrape (the collects run together).
    let depth: { at: number; rows: ReturnType<OperatorReadings['outboxDepth']> } | undefined
    const outboxDepth = () => {
      const now = performance.now()
      if (!depth || now - depth.at > 1000) depth = { at: now, rows: sources.readings.outboxDepth() }
      return depth.rows
    }
    new Gauge({
      name: 'fiscalbox_outbox_jobs',
      help: 'Outbox jobs not completed, by kind and status (pending, processing, failed; dead: dead letters)',
      labelNames: ['kind', 'status'] as const,
      registers,
      async collect() {
        this.reset()
        for (const row of await outboxDepth()) this.set({ kind: row.kind, status: row.status }, row.count)
      },
    })
    new Gauge({
      name: 'fiscalbox_outbox_oldest_age_seconds',
      help: 'Age of the oldest outbox job of a kind still to be done (pending, processing or failed)',
      labelNames: ['kind'] as const,
      registers,
      async collect() {
        this.reset()
        const oldest = new Map<string, number>()
        for (const row of await outboxDepth()) {
          if (row.status === 'dead') continue
          oldest.set(row.kind, Math.min(oldest.get(row.kind) ?? row.oldestCreatedAt, row.oldestCreatedAt))
        }
        const now = sources.clock()
        for (const [kind, createdAt] of oldest) this.set({ kind }, Math.max(0, (now - createdAt) / 1000))
      },
    })
    new Gauge({
      name: 'fiscalbox_outbox_dead_letters',
      help: 'Outbox jobs that ran out of attempts (dead letters), by kind',
      labelNames: ['kind'] as const,
      registers,
      async collect() {
        this.reset()
        for (const row of await outboxDepth())
          if (row.status === 'dead') this.set({ kind: row.kind }, row.count)
      },
    })
    new Gauge({
      name: 'fiscalbox_signing_unit_outages_open',
      help: 'Queues whose last receipt was signed without its failed signing unit, by country',
      labelNames: ['country'] as const,
      registers,
      async collect() {
        this.reset()
        for (const [country, queues] of await sources.readings.openOutages()) this.set({ country }, queues)
      },
    })
    const { poolUse } = sources
    if (poolUse) {
      new Gauge({
        name: 'fiscalbox_db_pool_connections',
        help: 'PostgreSQL pool: connections open, idle, the maximum, and callers waiting for one',
        labelNames: ['state'] as const,
        registers,
        collect() {
          const use = poolUse()
          this.set({ state: 'open' }, use.open)
          this.set({ state: 'idle' }, use.idle)
          this.set({ state: 'max' }, use.max)
          this.set({ state: 'waiting' }, use.waiting)
        },
      })
    }
    new Gauge({
      name: 'fiscalbox_credential_not_after_timestamp_seconds',
      help: 'End of validity (Unix seconds) of each certificate and key that has one (docs/operations.md)',
      labelNames: ['country', 'kind', 'use', 'holder', 'cashbox', 'subject', 'serial'] as const,
      registers,
      async collect() {
        this.reset()
        for (const c of await sources.credentials.list()) {
          if (!c.notAfter) continue
          const labels = {
            country: c.country,
            kind: c.kind,
            use: c.use,
            holder: c.holder,
            cashbox: c.cashboxId ?? '',
            subject: c.subject,
            serial: c.serial ?? '',
          }
          this.set(labels, Math.floor(c.notAfter.getTime() / 1000))
        }
      },
    })
  }

  /** Node's process metrics (CPU, memory, event loop lag, GC): for the serving process only. */
  includeProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry })
  }

  scrape(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}
