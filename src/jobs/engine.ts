import { randomUUID } from 'node:crypto'
import { ErrorCode, FiscalError } from '../core/errors.ts'
import { isUuid } from '../core/v1/accounts.ts'
import type { JobRecord, JobScope } from '../core/outbox.ts'
import type { Environment } from '../core/v1/model.ts'
import type { JobStore, V1Unit } from '../core/v1/ports.ts'
import { backoffDelay } from './backoff.ts'

/**
 * The transactional outbox's workers (docs/jobs.md). A job row is committed in the same storage
 * transaction as the change that caused it; workers claim due jobs (FOR UPDATE SKIP LOCKED on PostgreSQL,
 * the single writer on SQLite), run them outside any storage transaction, and record each attempt's end
 * together with its effects in one commit. A failed attempt is retried after an exponential backoff with
 * jitter; after max_attempts the job is dead (the dead letter) until it is retried by hand.
 */
export type JobOutcome =
  | { kind: 'done'; effects?: (unit: V1Unit) => Promise<void> }
  /** `reconcile`: the attempt may have reached the peer; the next attempt must ask before sending again. */
  | {
      kind: 'retry'
      error: string
      reconcile?: boolean
      /** The peer asked for a wait: the next attempt comes no earlier, whatever the backoff says. */
      retryAfterMs?: number
      effects?: (unit: V1Unit) => Promise<void>
    }
  /** Refused for good: straight to the dead letter. */
  | { kind: 'dead'; error: string; effects?: (unit: V1Unit) => Promise<void> }
  /** Not attempted (it must wait for another job): pending again at `runAt`, the attempt not counted. */
  | { kind: 'wait'; reason: string; runAt: number }

export interface JobHandler {
  readonly kind: string
  /**
   * Most jobs of this kind one loop claims at once, when it differs from the engine's `claimBatch`: an
   * authority takes up to 1000 records per submission, so its jobs are claimed in larger groups.
   */
  readonly claimBatch?: number
  /** The claimed jobs of one group (same kind and group key), oldest first. One outcome per job id. */
  run(jobs: JobRecord[]): Promise<Map<string, JobOutcome>>
  /** Effects committed with the job's move to the dead letter. */
  onDead(unit: V1Unit, job: JobRecord, error: string): Promise<void>
  /** Effects committed with a manual retry of a dead job. */
  onRevive?(unit: V1Unit, job: JobRecord): Promise<void>
}

/** The end of one attempt: the job's new state, and the effects committed with it. */
export interface JobEnd {
  job: JobRecord
  patch: Parameters<JobStore['finish']>[1]
  effects: (unit: V1Unit) => Promise<void>
}

/** The job table as the engine uses it: `finishAll` records many attempts' ends in one commit. */
export interface OutboxStore extends JobStore {
  /**
   * Each end as `finish` records it, all in one storage transaction; false for a job this worker no
   * longer holds. If any effect fails, nothing is committed and the call fails.
   */
  finishAll(ends: readonly JobEnd[]): Promise<boolean[]>
}

export interface EngineSettings {
  /** Worker loops in this process. */
  concurrency: number
  /** Most jobs one loop claims at once (of the kinds whose handler does not set its own). */
  claimBatch: number
  /** How often an idle loop looks for due jobs (a job enqueued in this process wakes the loops at once). */
  pollMs: number
  /** How long a claim is held; a job still processing after it is claimed again (and reconciled). */
  leaseMs: number
  maxAttempts: number
  backoffBaseMs: number
  backoffMaxMs: number
}

export const DEFAULT_ENGINE_SETTINGS: EngineSettings = {
  concurrency: 4,
  claimBatch: 20,
  pollMs: 250,
  leaseMs: 120_000,
  maxAttempts: 50,
  backoffBaseMs: 1_000,
  backoffMaxMs: 3_600_000,
}

export class JobEngine {
  readonly workerId = `worker-${randomUUID()}`
  private readonly handlers = new Map<string, JobHandler>()
  private running = false
  private loops: Promise<void>[] = []
  private readonly inFlight = new Set<Promise<unknown>>()
  private wakeUp: Array<() => void> = []
  /** The last attempt of each group (kind and group key) under way in this process. */
  private readonly groupsUnderWay = new Map<string, Promise<void>>()

  constructor(
    private readonly store: OutboxStore,
    readonly settings: EngineSettings,
    /** Epoch milliseconds; injectable so that tests move time (due jobs, batch windows) without sleeping. */
    private readonly now: () => number = Date.now,
  ) {}

  register(handler: JobHandler): void {
    this.handlers.set(handler.kind, handler)
  }

  get started(): boolean {
    return this.running
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.loops = Array.from({ length: this.settings.concurrency }, () => this.loop())
  }

  async stop(): Promise<void> {
    this.running = false
    this.notify()
    await Promise.allSettled(this.loops)
    await Promise.allSettled([...this.inFlight])
    this.loops = []
  }

  /** A job was committed in this process: idle loops look for it now instead of at the next poll. */
  notify(): void {
    const waiting = this.wakeUp
    this.wakeUp = []
    for (const wake of waiting) wake()
  }

  /**
   * The inline attempt of a just-committed job, waited for at most `timeoutMs`. When the time is up the
   * attempt goes on in the background and records its end like any other.
   */
  async runInline(jobId: string, timeoutMs: number): Promise<void> {
    if (timeoutMs <= 0) {
      this.notify()
      return
    }
    let job: JobRecord | undefined
    try {
      job = await this.store.claimById(jobId, this.workerId, this.now(), this.settings.leaseMs)
    } catch {
      // The transaction is stored and answered 201 regardless: the job waits for a worker.
      return
    }
    if (!job) return
    const attempt = this.track(this.process([job]))
    let timer: NodeJS.Timeout | undefined
    await Promise.race([attempt, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
    clearTimeout(timer)
  }

  /**
   * Claims and runs due jobs once (for tests and the CLI): the number of jobs claimed. Kinds whose handler
   * sets its own claim size are claimed apart, up to that size each, the others together up to
   * `claimBatch`; all in one storage transaction.
   */
  async runDueOnce(): Promise<number> {
    const own = [...this.handlers.values()].filter((h) => h.claimBatch !== undefined)
    const jobs = await this.store.claimDue(this.workerId, this.now(), this.settings.leaseMs, [
      ...own.map((handler) => ({ limit: handler.claimBatch ?? 1, only: handler.kind })),
      { limit: this.settings.claimBatch, except: own.map((handler) => handler.kind) },
    ])
    if (jobs.length > 0) await this.track(this.process(jobs))
    return jobs.length
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise)
    void promise.finally(() => this.inFlight.delete(promise)).catch(() => {})
    return promise
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let claimed = 0
      try {
        claimed = await this.runDueOnce()
      } catch {
        // Storage unavailable: wait for the next poll, the jobs are safe in the table.
      }
      if (claimed === 0 && this.running) await this.idle()
    }
  }

  private idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.settings.pollMs)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.wakeUp.push(done)
    })
  }

  private async process(jobs: JobRecord[]): Promise<void> {
    const groups = new Map<string, JobRecord[]>()
    for (const job of jobs) {
      const key = `${job.kind}\u0000${job.groupKey}`
      const group = groups.get(key)
      if (group) group.push(job)
      else groups.set(key, [job])
    }
    // Groups are different peers or chains: one slow peer does not hold up the others.
    await Promise.all([...groups].map(([key, group]) => this.afterGroup(key, () => this.runGroup(group))))
  }

  /**
   * One attempt per group at a time in this process, each after the previous one's end is committed: a
   * group is one chain or one peer, whose later jobs go after the earlier ones and see how they ended.
   */
  private afterGroup(key: string, attempt: () => Promise<void>): Promise<void> {
    const previous = this.groupsUnderWay.get(key) ?? Promise.resolve()
    const current = previous.catch(() => {}).then(attempt)
    this.groupsUnderWay.set(key, current)
    void current
      .finally(() => {
        if (this.groupsUnderWay.get(key) === current) this.groupsUnderWay.delete(key)
      })
      .catch(() => {})
    return current
  }

  private async runGroup(jobs: JobRecord[]): Promise<void> {
    const handler = this.handlers.get(jobs[0]?.kind ?? '')
    let outcomes: Map<string, JobOutcome>
    if (!handler) {
      outcomes = new Map(
        jobs.map((job) => [
          job.id,
          { kind: 'retry', error: `no handler for job kind ${job.kind} on this node` },
        ]),
      )
    } else {
      try {
        outcomes = await handler.run(jobs)
      } catch (error) {
        // A fault of ours, not of the peer: retried like one, and visible in the retry queue.
        const message = `job handler failed: ${(error as Error).message}`
        outcomes = new Map(
          jobs.map((job) => [job.id, { kind: 'retry', error: message, reconcile: job.reconcile }]),
        )
      }
    }
    const ends = jobs.map((job) =>
      this.endOf(
        handler,
        job,
        outcomes.get(job.id) ?? { kind: 'retry', error: 'no outcome', reconcile: true },
      ),
    )
    try {
      // One commit for the whole group: a claim of 1000 submissions ends in one transaction, not 1000.
      await this.store.finishAll(ends)
    } catch {
      // One end's effects failed and took the others with it: each on its own, so that only it is lost.
      await Promise.all(
        ends.map((end) =>
          this.store.finish(end.job, end.patch, end.effects).catch(() => {
            // The end of this attempt could not be recorded: the lease runs out and the job is claimed again.
          }),
        ),
      )
    }
  }

  private endOf(handler: JobHandler | undefined, job: JobRecord, outcome: JobOutcome): JobEnd {
    const now = this.now()
    if (outcome.kind === 'done')
      return {
        job,
        patch: {
          status: 'completed',
          runAt: job.runAt,
          reconcile: false,
          lastError: null,
          completedAt: new Date(now).toISOString(),
        },
        effects: async (unit) => outcome.effects?.(unit),
      }
    if (outcome.kind === 'wait')
      return {
        job,
        patch: {
          status: 'pending',
          runAt: Math.max(outcome.runAt, now),
          reconcile: job.reconcile,
          lastError: outcome.reason,
          completedAt: null,
          attempts: job.attempts - 1,
        },
        effects: async () => {},
      }
    if (outcome.kind === 'dead' || job.attempts >= job.maxAttempts) {
      const error =
        outcome.kind === 'dead' ? outcome.error : `${outcome.error} (gave up after ${job.attempts} attempts)`
      return {
        job,
        patch: {
          status: 'dead',
          runAt: job.runAt,
          reconcile: outcome.kind === 'retry' && outcome.reconcile === true,
          lastError: error,
          completedAt: null,
        },
        effects: async (unit) => {
          await outcome.effects?.(unit)
          await handler?.onDead(unit, job, error)
        },
      }
    }
    const delay = Math.max(
      backoffDelay(job.attempts, { baseMs: this.settings.backoffBaseMs, maxMs: this.settings.backoffMaxMs }),
      outcome.retryAfterMs ?? 0,
    )
    return {
      job,
      patch: {
        status: 'failed',
        runAt: now + delay,
        reconcile: outcome.reconcile === true,
        lastError: outcome.error,
        completedAt: null,
      },
      effects: async (unit) => outcome.effects?.(unit),
    }
  }

  /** The scope's submissions held for a batch window go now (the rest of the window stays as it is). */
  async releaseWindow(
    scope: JobScope & { environment?: Environment; groups?: readonly string[] },
    window: string,
  ): Promise<number> {
    const released = await this.store.releaseWindow(scope, window, this.now())
    if (released > 0) this.notify()
    return released
  }

  /**
   * Manual retry of a dead job of the scope (an account's, or one cash box's): back to pending with its
   * attempts reset. 404 outside the scope, 409 when the job is not dead.
   */
  async retryDead(scope: JobScope, jobId: string): Promise<JobRecord> {
    const existing = isUuid(jobId) ? await this.store.find(scope, jobId) : undefined
    if (!existing) throw new FiscalError(ErrorCode.NotFound, 'job not found')
    const job = await this.store.revive(scope, jobId, this.now(), async (unit, revived) => {
      await this.handlers.get(revived.kind)?.onRevive?.(unit, revived)
    })
    if (!job)
      throw new FiscalError(ErrorCode.Conflict, `job is ${existing.status}, only a dead job can be retried`)
    this.notify()
    return job
  }
}
