/**
 * A one-line progress counter on a terminal's stderr; silent when stderr is a file or a pipe. `update`
 * fits an export format's progress callback, which may learn the total on the way.
 */
export function progress(label: string, total?: number) {
  const tty = process.stderr.isTTY
  let last = 0
  return {
    update(done: number, of?: number): void {
      if (of !== undefined) total = of
      const now = Date.now()
      if (!tty || now - last < 100) return
      last = now
      const share = total ? ` (${Math.floor((done / Math.max(total, 1)) * 100)} %)` : ''
      process.stderr.write(
        `\r${label}: ${done.toLocaleString('en')}${total ? ` / ${total.toLocaleString('en')}` : ''}${share}`,
      )
    },
    done(done: number): void {
      if (tty) process.stderr.write(`\r${label}: ${done.toLocaleString('en')} done${' '.repeat(20)}\n`)
    },
  }
}
