/**
 * Fault injection of the authority simulator, decided per request from a seeded generator so that a
 * test run can be repeated exactly.
 */
export interface FaultConfig {
  /** fraction of requests answered 503 before any processing (nothing registered) */
  errorRate: number
  /** fraction of requests processed and registered whose answer never comes (unknown outcome) */
  timeoutRate: number
  /** fraction of requests that hang without being processed */
  dropRate: number
  /** added before every answer, in ms */
  slowMs: number
  /** windows (epoch ms) during which every request gets 503 */
  outages: Array<{ from: number; to: number }>
  /** how long a timed-out request is held open before its connection is cut (ms) */
  holdMs: number
  /** invoice numbers (series and number as printed) whose records are refused as if wrong in content */
  refuse: string[]
  seed: number
}

export const NO_FAULTS: FaultConfig = {
  errorRate: 0,
  timeoutRate: 0,
  dropRate: 0,
  slowMs: 0,
  outages: [],
  holdMs: 60_000,
  refuse: [],
  seed: 1,
}

export type FaultDecision = 'outage' | 'error' | 'drop' | 'timeout' | 'answer'

/** mulberry32: small, fast, good enough to spread faults; not for anything secret. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class FaultInjector {
  private random: () => number
  constructor(public config: FaultConfig) {
    this.random = seededRandom(config.seed)
  }

  reconfigure(config: Partial<FaultConfig>): void {
    this.config = { ...this.config, ...config }
    if (config.seed !== undefined) this.random = seededRandom(config.seed)
  }

  /** A record the service processes is refused when its invoice number is listed. */
  refuses(invoiceNumber: string): boolean {
    return this.config.refuse.includes(invoiceNumber)
  }

  decide(now: number): FaultDecision {
    if (this.config.outages.some((w) => now >= w.from && now < w.to)) return 'outage'
    const r = this.random()
    const { errorRate, dropRate, timeoutRate } = this.config
    if (r < errorRate) return 'error'
    if (r < errorRate + dropRate) return 'drop'
    if (r < errorRate + dropRate + timeoutRate) return 'timeout'
    return 'answer'
  }
}
