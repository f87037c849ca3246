import type { Market } from '../../core/market.ts'
import { marketServices } from '../module.ts'
import { FrArchives } from './archive.ts'
import { FrConfiguration } from './configuration.ts'
import { FR_COUNTRY } from './market.ts'
import type { FrStore } from './ports.ts'

/** What the French module's HTTP surface and CLI use besides /v2/sign. */
export interface FrServices {
  configuration: FrConfiguration
  archives: FrArchives
}

export const frServices = (store: FrStore, clock: () => number): FrServices => ({
  configuration: new FrConfiguration(store, clock),
  archives: new FrArchives(store),
})

/** The French services of a market registry. */
export const frServicesOf = (marketFor: (countryCode: number) => Market): FrServices =>
  marketServices<FrServices>(marketFor, FR_COUNTRY, 'fr')
