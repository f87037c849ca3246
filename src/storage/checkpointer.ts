import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

// Plain CommonJS run with eval: the worker needs no TypeScript loader, whichever way the process was started.
const CHECKPOINTER = `
const { workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.file, { fileMustExist: true })
db.pragma('busy_timeout = 0')
setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch {
    // Busy or interrupted: the next round catches up, and the writer's own threshold is the backstop.
  }
}, workerData.intervalMs)
`

/**
 * Moves WAL checkpoints off the event loop. A checkpoint copies the WAL's pages into the database file and
 * fsyncs both; run by the writer at its commit (SQLite's default) it stalls every request for milliseconds
 * every thousand pages. A connection in a worker thread checkpoints passively instead: it never blocks the
 * writer, and the writer restarts the WAL from the beginning once all of it has been copied.
 */
export function startCheckpointer(file: string, intervalMs = 100): { stop(): Promise<void> } {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(CHECKPOINTER, { eval: true, workerData: { file, driver, intervalMs } })
  worker.unref()
  return {
    stop: async () => {
      await worker.terminate()
    },
  }
}
