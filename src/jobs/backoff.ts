/**
 * Exponential backoff with "equal jitter": attempt n waits between half and all of min(max, base * 2^(n-1)).
 * The random half spreads the retries of many jobs that failed together (an outage) so that they do not
 * all hit the recovering peer in the same instant; the fixed half keeps a floor under each wait.
 */
export interface BackoffSettings {
  baseMs: number
  maxMs: number
}

export function backoffDelay(
  attempt: number,
  settings: BackoffSettings,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 40)
  const ceiling = Math.min(settings.maxMs, settings.baseMs * 2 ** exponent)
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}
