import { randomUUID } from 'node:crypto'
import { mkdir, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { exportFormatsOf } from '../../cli/export-formats.ts'
import type { Session } from '../../core/dashboard/operators.ts'
import type { CashboxSummary, ExportRun } from '../../core/dashboard/ports.ts'
import { ErrorCode, FiscalError, invalid } from '../../core/errors.ts'
import type { CashboxRecord } from '../../core/ports.ts'
import type { ExportFormat, ExportPeriod } from '../../markets/module.ts'
import type { Runtime } from '../../runtime.ts'

/** Runs listed on the exports page. */
const LISTED = 100
/** Progress is saved at most this often: a DEP7 export reports every receipt. */
const SAVE_EVERY_MS = 1000
/** A running export's heartbeat, saved even when its writer reports no progress (a long query). */
const HEARTBEAT_MS = 10_000
/**
 * A run whose heartbeat is older than this was interrupted: its node stopped (a restart, a crash) and no
 * other node will finish it. Six missed beats, so that a node busy for a while is not taken for dead.
 */
const INTERRUPTED_AFTER_MS = 6 * HEARTBEAT_MS

/**
 * Exports started from the dashboard: written in the background by the format's own writer (the one
 * `fiscalbox export` runs) into the exports folder, then checked by the format's verifier. The runs are
 * kept in the database: any node lists them and serves their files when it mounts the same folder.
 */
export class ExportRuns {
  constructor(
    private readonly runtime: Runtime,
    private readonly directory: string,
  ) {}

  /** The export formats of one of the account's cash boxes. */
  async formats(summary: CashboxSummary): Promise<{ cashbox: CashboxRecord; formats: ExportFormat[] }> {
    const cashbox = await this.runtime.cashboxes.find(summary.id)
    if (!cashbox) throw new FiscalError(ErrorCode.NotFound, 'no such cash box in your account')
    return { cashbox, formats: await exportFormatsOf(this.runtime, cashbox) }
  }

  async start(session: Session, summary: CashboxSummary, formatId: string, period: ExportPeriod) {
    const { cashbox, formats } = await this.formats(summary)
    const format = formats.find((f) => f.id === formatId)
    if (!format)
      throw invalid(
        'format',
        `must be one of this cash box's formats: ${formats.map((f) => f.id).join(', ')}`,
      )
    const bounds: ExportPeriod = format.period
      ? { ...(period.from ? { from: period.from } : {}), ...(period.to ? { to: period.to } : {}) }
      : {}
    if (format.period?.required && !bounds.from) throw invalid('from', `is required: ${format.period.from}`)
    format.checkPeriod?.(bounds)
    await mkdir(this.directory, { recursive: true })
    const id = randomUUID()
    const run: ExportRun = {
      id,
      accountId: session.accountId,
      cashboxId: cashbox.id,
      cashboxLabel: cashbox.label,
      format: format.id,
      formatLabel: format.label,
      period: bounds,
      status: 'exporting',
      done: 0,
      total: null,
      startedAt: new Date().toISOString(),
      heartbeatAt: new Date().toISOString(),
      finishedAt: null,
      files: [],
      bytes: 0,
      error: null,
      verdict: null,
    }
    await this.runtime.exportRuns.insert(run)
    void this.perform(
      run,
      format,
      cashbox,
      join(this.directory, `${format.id}-${cashbox.id}-${id}${format.extension}`),
    )
    return run
  }

  async list(session: Session): Promise<ExportRun[]> {
    const runs = await this.runtime.exportRuns.list(session.accountId, LISTED)
    return Promise.all(runs.map((run) => this.settleInterrupted(run)))
  }

  /** A run of the session's account; another account's answers as one that does not exist. */
  async find(session: Session, id: string): Promise<ExportRun> {
    const run = await this.runtime.exportRuns.find(id)
    if (!run || run.accountId !== session.accountId)
      throw new FiscalError(ErrorCode.NotFound, 'no such export in your account', {
        field: 'exportId',
        reason: 'must be an export started by your account',
      })
    return this.settleInterrupted(run)
  }

  /** A running export whose heartbeat stopped is recorded as failed, with what to do about it. */
  private async settleInterrupted(run: ExportRun): Promise<ExportRun> {
    const running = run.status === 'exporting' || run.status === 'verifying'
    if (!running || Date.now() - Date.parse(run.heartbeatAt) <= INTERRUPTED_AFTER_MS) return run
    const settled = {
      status: 'failed' as const,
      error: `interrupted: the node that ran it stopped (no heartbeat since ${run.heartbeatAt}); start the export again`,
      finishedAt: new Date().toISOString(),
    }
    await this.runtime.exportRuns.update(run.id, settled)
    return { ...run, ...settled }
  }

  /** Where a file of a run is. */
  file(run: ExportRun, part: number): string | undefined {
    const name = run.files[part - 1]
    return name === undefined ? undefined : join(this.directory, name)
  }

  private async perform(run: ExportRun, format: ExportFormat, cashbox: CashboxRecord, out: string) {
    const store = this.runtime.exportRuns
    // Saves one after the other, so that an older count never lands after a newer one.
    let saved = Promise.resolve()
    let savedAt = 0
    const save = (change: Parameters<typeof store.update>[1]) => {
      const write = () => store.update(run.id, change)
      saved = saved.then(write, write)
      return saved
    }
    const heartbeat = setInterval(() => {
      void save({ heartbeatAt: new Date().toISOString() }).catch(() => {})
    }, HEARTBEAT_MS)
    heartbeat.unref()
    try {
      const written = await format.write(this.runtime, cashbox, run.period, out, (done, total) => {
        run.done = done
        if (total !== undefined) run.total = total
        const now = Date.now()
        if (now - savedAt < SAVE_EVERY_MS) return
        savedAt = now
        void save({ done: run.done, total: run.total, heartbeatAt: new Date(now).toISOString() }).catch(
          () => {},
        )
      })
      let bytes = 0
      for (const file of written.files) bytes += (await stat(file)).size
      await save({
        status: format.verify ? 'verifying' : 'done',
        done: written.items,
        total: written.items,
        files: written.files.map((file) => basename(file)),
        bytes,
        ...(format.verify ? {} : { finishedAt: new Date().toISOString() }),
      })
      if (!format.verify) return
      const verdict = await format.verify(this.runtime, cashbox, written.files)
      await save({ status: 'done', verdict, finishedAt: new Date().toISOString() })
    } catch (error) {
      await save({
        status: 'failed',
        error: (error as Error).message,
        finishedAt: new Date().toISOString(),
      }).catch(() => {})
    } finally {
      clearInterval(heartbeat)
    }
  }
}
