import type { OperationLog, Outcome } from './operations.ts'
import { type Cashbox, kindOf, type WriteSurface } from './surfaces.ts'

export interface DriveOptions {
  log: OperationLog
  cashboxes: Cashbox[]
  surfaces: WriteSurface[]
  workers: number
  random: () => number
  /** The node a copy goes to; a second node for duplicates (same operation, sent at the same time). */
  target(turn: number): string | undefined
  duplicateTo?(turn: number): string | undefined
  /** Share of turns that send a copy to a second node at once. */
  duplicateShare?: number
  /** Share of turns that retry an unanswered operation instead of sending a new one. */
  retryShare: number
  /** Ends the run once true; checked before each request. */
  done(): boolean
  /** Called (and awaited) after each outcome, e.g. to kill a node, or to back off after a 503. */
  onOutcome?(outcome: Outcome): void | Promise<void>
}

/** Runs `workers` concurrent clients until done(); returns how many new operations were created. */
export async function drive(options: DriveOptions): Promise<number> {
  let created = 0
  let turn = 0
  const worker = async () => {
    while (!options.done()) {
      const t = turn++
      const baseUrl = options.target(t)
      if (!baseUrl) return
      let op = options.random() < options.retryShare ? options.log.takeRetry() : undefined
      if (!op) {
        const k = options.log.all.length
        // Surfaces without a target in this suite are left out.
        const usable = options.surfaces.filter((s) => options.cashboxes.some((c) => kindOf(c) === s.kind))
        const surface = usable[k % usable.length] as WriteSurface
        const targets = options.cashboxes.filter((c) => kindOf(c) === surface.kind)
        const cashbox = targets[Math.floor(options.random() * targets.length)] as Cashbox
        op = options.log.add(surface, cashbox, surface.body(k))
        created += 1
      }
      const second =
        options.duplicateTo && options.random() < (options.duplicateShare ?? 0)
          ? options.duplicateTo(t)
          : undefined
      const current = op
      const outcomes = await Promise.all(
        [baseUrl, ...(second ? [second] : [])].map((url) => options.log.send(url, current)),
      )
      for (const outcome of outcomes) await options.onOutcome?.(outcome)
    }
  }
  await Promise.all(Array.from({ length: options.workers }, worker))
  return created
}
