import { genericMarket } from './generic/index.ts'
import type { Market } from '../core/market.ts'

/**
 * Country routing by the top 16 bits of the case codes. Until a country's own plug lands, its queues are
 * served by the generic market (see docs/markets.md).
 */
export function marketFor(_countryCode: number): Market {
  return genericMarket
}
