import type { OperatorStore } from './operators.ts'

export type { OperatorStore }

/** A cash box with its queue's position and its newest receipt, as the dashboard lists them. */
export interface CashboxSummary {
  id: string
  accountId: string
  label: string
  country: string
  queueId: string
  countryCode: number
  currentRow: number
  receipts: number
  startMoment: string | null
  stopMoment: string | null
  /** A receipt is waiting for its external signing unit (core/ports.ts Reservation). */
  reserved: boolean
  lastReceipt: { moment: string; reference: string; ftState: string } | null
}

/** One queue item as the journal page shows it; number and total only for receipts that got a number. */
export interface JournalRow {
  queueItemId: string
  row: number
  reference: string
  moment: string
  receiptCase: string
  ftState: string
  number: number | null
  total: string | null
}

export interface JournalFilter {
  /** The POS's cbReceiptReference, matched from its start. */
  reference?: string
  /** Inclusive moment range, ISO 8601 UTC. */
  from?: string
  to?: string
  limit: number
  offset: number
}

export interface ClosingRow {
  number: number
  moment: string
  /** daily-closing, monthly-closing, yearly-closing */
  type: string
  message: string
  /** The period's totals as the closing stored them (core/totalizers.ts). */
  data: string
}

/** A job's life, enough to count how many were open at any moment. */
export interface JobSpan {
  createdAt: string
  completedAt: string | null
  status: string
}

/** The reads of the dashboard, scoped by account or queue; implemented in storage/repositories/dashboard.ts. */
export interface DashboardReads {
  cashboxes(accountId: string): Promise<CashboxSummary[]>
  cashbox(id: string): Promise<CashboxSummary | undefined>
  journal(queueId: string, filter: JournalFilter): Promise<{ rows: JournalRow[]; total: number }>
  closings(queueId: string, limit: number): Promise<ClosingRow[]>
  /** Receipt moments of the account's queues at or after `since`, to count per hour. */
  receiptMoments(accountId: string, since: string): Promise<string[]>
  /** The account's jobs open at some moment since `since` (created before it and still open, or later). */
  jobSpans(accountId: string, since: string): Promise<JobSpan[]>
}

/** An export started from the dashboard, from its start to its verdict. */
export interface ExportRun {
  id: string
  accountId: string
  cashboxId: string
  cashboxLabel: string
  /** The export format's id and label (markets/module.ts ExportFormat). */
  format: string
  formatLabel: string
  period: { from?: string; to?: string }
  status: 'exporting' | 'verifying' | 'done' | 'failed'
  done: number
  total: number | null
  startedAt: string
  /** Saved while the run is written or checked: a run whose beat stopped was interrupted with its node. */
  heartbeatAt: string
  finishedAt: string | null
  /** The written files' names in the exports folder, in order. */
  files: string[]
  bytes: number
  error: string | null
  /** The check of the files as `fiscalbox verify` runs it; null while running or when it has none. */
  verdict: { ok: boolean; summary: string; problems: string[] } | null
}

/** Export runs, kept in the database so that every node and a restarted one sees them. */
export interface ExportRunStore {
  insert(run: ExportRun): Promise<void>
  update(
    id: string,
    change: Partial<
      Pick<
        ExportRun,
        'status' | 'done' | 'total' | 'heartbeatAt' | 'finishedAt' | 'files' | 'bytes' | 'error' | 'verdict'
      >
    >,
  ): Promise<void>
  find(id: string): Promise<ExportRun | undefined>
  /** The account's newest runs first. */
  list(accountId: string, limit: number): Promise<ExportRun[]>
}
