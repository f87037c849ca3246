import type { MarketDependencies } from '../../registry.ts'
import { GermanMarket } from './index.ts'

export const createDeMarket = (deps: MarketDependencies): GermanMarket =>
  new GermanMarket(deps.de.market, deps.de)
