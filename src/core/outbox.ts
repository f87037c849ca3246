/**
 * The jobs outbox of every surface (/v1 submissions, webhooks, a market's records such as Spain's on
 * /v2/sign): a job, its statuses, the scope a caller sees and the counts (docs/jobs.md).
 */
export type JobStatus = 'pending' | 'processing' | 'completed' | 'failed' | 'dead'
export const JOB_STATUSES: readonly JobStatus[] = ['pending', 'processing', 'completed', 'failed', 'dead']

export interface JobRecord {
  id: string
  accountId: string
  kind: string
  subjectId: string
  groupKey: string
  status: JobStatus
  attempts: number
  maxAttempts: number
  runAt: number
  lockedBy: string | null
  lockedUntil: number | null
  reconcile: boolean
  lastError: string | null
  createdAt: string
  updatedAt: string
  completedAt: string | null
  /** The batch window the job is held for, or null. */
  batchWindow: string | null
}

export interface NewJob {
  id: string
  accountId: string
  kind: string
  subjectId: string
  groupKey: string
  maxAttempts: number
  runAt: number
  createdAt: string
  /** Held for this batch window (a market's, e.g. a daily batch) until runAt. */
  batchWindow?: string
}

export interface JobStats {
  byStatus: Record<JobStatus, number>
  byKind: Record<string, Record<JobStatus, number>>
  oldestDueAt: number | null
}

/**
 * The jobs a caller may see and act on: an account's (transactions API v1), or one group of them (a cash
 * box whose market submits through the outbox: its queue's submissions; the cash box's credentials reach
 * no other jobs of its account).
 */
export interface JobScope {
  accountId: string
  /** only the jobs of this group (a cash box: its queue id) */
  groupKey?: string
}
