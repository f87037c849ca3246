/**
 * Progress for a person at a terminal, on stderr: `step` lines always, `status` as one line rewritten in
 * place and only on a terminal, so a log file or CI output gets the steps without the carriage returns.
 */
const tty = Boolean(process.stderr.isTTY)
let transient = false

function clear(): void {
  if (transient) process.stderr.write('\r\x1b[2K')
  transient = false
}

export function step(text: string): void {
  clear()
  process.stderr.write(`${text}\n`)
}

export function status(text: string): void {
  if (!tty) return
  clear()
  process.stderr.write(text.length > 150 ? text.slice(0, 150) : text)
  transient = true
}

export function endStatus(): void {
  clear()
}

/** A status line for a counted task, rewritten at most ten times a second. */
export function counter(label: string, total: number) {
  const started = performance.now()
  let last = 0
  return {
    update(done: number): void {
      const now = performance.now()
      if (now - last < 100 && done < total) return
      last = now
      const rate = done / Math.max((now - started) / 1000, 0.001)
      const left = rate > 0 ? (total - done) / rate : 0
      status(
        `  ${label}: ${done.toLocaleString('en')} / ${total.toLocaleString('en')} (${Math.floor((done / total) * 100)} %, ${Math.round(rate).toLocaleString('en')}/s, ~${Math.ceil(left)} s left)`,
      )
    },
    done(): number {
      endStatus()
      return (performance.now() - started) / 1000
    },
  }
}
