/** A one-line progress counter on a terminal's stderr; silent when stderr is a file or a pipe. */
export function progress(label: string, total?: number) {
  const tty = process.stderr.isTTY
  let last = 0
  return {
    update(done: number): void {
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
