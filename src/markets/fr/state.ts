import { CHAINS, type Chain } from './documents.ts'
import { emptyGrandTotals, type GrandTotals } from './totals.ts'

/**
 * The French market's per-queue state, kept in the queue's market state and committed with each receipt:
 * the counters and last hashes of the chains and the running totals can never fork from the entries.
 */
export interface FrQueueState {
  v: 1
  /** Per chain: entries so far (the number of the last one) and the chain value of the last one ('' none). */
  chains: Record<Chain, { n: number; hash: string }>
  totals: GrandTotals
  /** Duplicates printed so far on this queue. */
  duplicates: number
  /** The version of the cash box's configuration journaled last (0: none yet). */
  configVersion: number
}

export function parseState(text: string | null): FrQueueState {
  if (text) {
    const state = JSON.parse(text) as FrQueueState
    if (state.v === 1) return state
  }
  return {
    v: 1,
    chains: Object.fromEntries(CHAINS.map((c) => [c, { n: 0, hash: '' }])) as FrQueueState['chains'],
    totals: emptyGrandTotals(),
    duplicates: 0,
    configVersion: 0,
  }
}

export const serializeState = (state: FrQueueState): string => JSON.stringify(state)
