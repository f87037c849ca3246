/** The German market's per-queue state, committed with each receipt (context.marketState). */
export interface OpenTransaction {
  txId: string
  number: number
  revision: number
  /** ISO start time of the TSS transaction. */
  start: string
  /**
   * The answer to its last call was lost and not read back (a remote TSE): the TSE may not have it at all,
   * or have it further on. It is looked up before any other call, never started again.
   */
  lookUp?: true
}

export interface DeQueueState {
  v: 1
  /** Z_NR of the last daily closing (0 before the first); receipts belong to closingNumber + 1. */
  closingNumber: number
  /** Receipt moment of the first receipt answered without the TSS, until a zero receipt recovers. */
  failedSince: string | null
  failedReceipts: number
  /** Explicit-flow transactions by receipt reference (and terminal), and orphans (`orphan|<txId>`) of failed receipts. */
  open: Record<string, OpenTransaction>
}

export const initialState = (): DeQueueState => ({
  v: 1,
  closingNumber: 0,
  failedSince: null,
  failedReceipts: 0,
  open: {},
})

export function parseState(text: string | null): DeQueueState | null {
  if (!text) return null
  const state = JSON.parse(text) as DeQueueState
  return state.v === 1 ? state : null
}

export const serializeState = (state: DeQueueState): string => JSON.stringify(state)
