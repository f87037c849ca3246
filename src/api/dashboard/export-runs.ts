import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { exportJournal } from '../../cli/export-journal.ts'
import type { CashboxSummary } from '../../core/dashboard/ports.ts'
import type { Session } from '../../core/dashboard/operators.ts'
import { ErrorCode, FiscalError } from '../../core/errors.ts'
import type { Runtime } from '../../runtime.ts'
import { JournalVerifier } from '../../verify/journal-verifier.ts'
import type { VerifyReport } from '../../verify/jsonl-export.ts'
import { verifyJsonlFile } from '../../verify/verify-file.ts'

export interface ExportRun {
  id: string
  accountId: string
  cashboxId: string
  cashboxLabel: string
  kind: 'journal'
  status: 'exporting' | 'verifying' | 'done' | 'failed'
  done: number
  total: number
  startedAt: string
  finishedAt: string | null
  file: string
  bytes: number
  error: string | null
  verify: VerifyReport | null
}

/** Runs kept per process: enough for a shift's exports; the oldest finished ones go first. */
const KEPT = 200

/**
 * Exports started from the dashboard: written in the background into the exports folder, then checked by
 * the same verifier as `fiscalbox verify`. The runs live in this process: on several nodes, the page and
 * the download must reach the node that ran the export (docs/dashboard.md).
 */
export class ExportRuns {
  private readonly runs = new Map<string, ExportRun>()

  constructor(
    private readonly runtime: Runtime,
    private readonly directory: string,
  ) {}

  start(session: Session, cashbox: CashboxSummary): ExportRun {
    mkdirSync(this.directory, { recursive: true })
    const id = randomUUID()
    const run: ExportRun = {
      id,
      accountId: session.accountId,
      cashboxId: cashbox.id,
      cashboxLabel: cashbox.label,
      kind: 'journal',
      status: 'exporting',
      done: 0,
      total: cashbox.receipts,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      file: join(this.directory, `journal-${cashbox.id}-${id}.jsonl`),
      bytes: 0,
      error: null,
      verify: null,
    }
    this.forgetOld()
    this.runs.set(id, run)
    void this.perform(run)
    return run
  }

  list(session: Session): ExportRun[] {
    return [...this.runs.values()].filter((run) => run.accountId === session.accountId).reverse()
  }

  /** A run of the session's account; another account's answers as one that does not exist. */
  find(session: Session, id: string): ExportRun {
    const run = this.runs.get(id)
    if (!run || run.accountId !== session.accountId)
      throw new FiscalError(ErrorCode.NotFound, 'no such export in your account', {
        field: 'exportId',
        reason: 'must be an export started by your account on this node',
      })
    return run
  }

  private async perform(run: ExportRun): Promise<void> {
    try {
      const report = (total?: number) => ({
        update: (done: number) => {
          run.done = done
          if (total !== undefined) run.total = total
        },
        done: (done: number) => {
          run.done = done
        },
      })
      await exportJournal(this.runtime, run.cashboxId, run.file, (_label, total) => report(total))
      run.bytes = (await stat(run.file)).size
      run.status = 'verifying'
      run.verify = await verifyJsonlFile(run.file, new JournalVerifier())
      run.status = 'done'
    } catch (error) {
      run.status = 'failed'
      run.error = (error as Error).message
    } finally {
      run.finishedAt = new Date().toISOString()
    }
  }

  private forgetOld(): void {
    for (const [id, run] of this.runs) {
      if (this.runs.size < KEPT) return
      if (run.finishedAt) this.runs.delete(id)
    }
  }
}
