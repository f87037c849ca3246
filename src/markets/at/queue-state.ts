/**
 * The Austrian market's per-queue state, kept in the queue's market state string and committed with each
 * receipt (so the turnover counter and the chain can never fork from the receipts).
 */
/** A receipt of an outage as the Sammelbeleg names it: Belegnummer and Vienna local time. */
export interface OutageReceipt {
  belegnummer: string
  zeitpunkt: string
}

export interface AtQueueState {
  v: 1
  /** RKSV receipts signed so far (also the seq of the last one in at_receipts). */
  seq: number
  /** Turnover counter in cents (decimal text: it may outgrow a double's exact range in theory). */
  turnover: string
  /** Sig-Voriger-Beleg of the next receipt. */
  chain: string
  /** ISO moment of the last RKSV receipt: dates must not decrease. */
  lastMoment: string | null
  /** Device that signed last: the default for receipts that do not name one. */
  activeDevice: number | null
  /** Receipt moment of the first failed-device receipt of an outage that no Sammelbeleg has ended yet. */
  failedSince: string | null
  failedReceipts: number
  /** First and last receipt of the open outage, for the Sammelbeleg that ends it. */
  failedFirst?: OutageReceipt
  failedLast?: OutageReceipt
  /** yyyy-MM of the last month closed by a Monatsbeleg (the month before the Startbeleg at first). */
  monthClosed: string
  /** Last year closed by a Jahresbeleg (the year before the Startbeleg at first). */
  yearClosed: number
  stopped: boolean
}

export function parseState(text: string | null): AtQueueState | null {
  if (!text) return null
  const state = JSON.parse(text) as AtQueueState
  return state.v === 1 ? state : null
}

export const serializeState = (state: AtQueueState): string => JSON.stringify(state)

/** yyyy-MM shifted by n months. */
export function addMonths(month: string, n: number): string {
  const index = Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1 + n
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`
}
