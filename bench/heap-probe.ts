import { appendFileSync } from 'node:fs'

/**
 * Preloaded into the server by the soak benchmark only (node --import): every 2 s one JSON line of the
 * process's memory to SOAK_HEAP_FILE. The V8 heap is not visible from outside the process.
 */
const file = process.env.SOAK_HEAP_FILE
if (file) {
  setInterval(() => {
    const m = process.memoryUsage()
    appendFileSync(file, `${JSON.stringify({ at: Date.now(), rss: m.rss, heapUsed: m.heapUsed })}\n`)
  }, 2_000).unref()
}
