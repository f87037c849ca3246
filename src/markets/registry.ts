import { countryCode } from '../core/case-codes.ts'
import type { Market } from '../core/market.ts'
import { genericMarket } from './generic/index.ts'
import { marketModules } from './index.ts'
import type { MarketContext } from './module.ts'

export type MarketFor = (countryCode: number) => Market

/**
 * Country routing by the top 16 bits of the case codes: each module's market, built once. A country
 * without a module of its own is served by the generic market (see docs/markets.md).
 */
export async function createMarketRegistry(context: MarketContext): Promise<MarketFor> {
  const markets = new Map<number, Market>()
  for (const module of marketModules) {
    if (module.market) markets.set(countryCode(module.country), await module.market(context))
  }
  return (countryCode) => markets.get(countryCode) ?? genericMarket
}
