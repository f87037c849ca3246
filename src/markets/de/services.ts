import { marketServices } from '../module.ts'
import type { Market } from '../../core/market.ts'
import type { MasterKey } from '../../core/secrets.ts'
import type { SigningKeys } from '../../core/signing-keys.ts'
import { type CredentialStore, SignDeCredentials } from './credentials.ts'
import { DsfinvkExporter } from './dsfinvk/exporter.ts'
import { DE_COUNTRY, GermanMarket } from './market/index.ts'
import type { DeStore } from './market/ports.ts'
import type { RemoteTseStore } from './remote/ports.ts'
import { RemoteTseService } from './remote/service.ts'
import type { TssStore } from './tss/ports.ts'
import { TssService } from './tss/tss-service.ts'

/** What Germany needs from storage: its stores (store/), on the process's database. */
export interface DeStores {
  tss: TssStore
  credentials: CredentialStore
  market: DeStore
  remote: RemoteTseStore
}

/**
 * Germany's services, built once per process: the TSS, the SIGN DE API credentials, and for the DE market
 * on /v2/sign its store (cash boxes, receipts) and the DSFinV-K export.
 */
export interface DeServices {
  tss: TssService
  credentials: SignDeCredentials
  market: DeStore
  dsfinvk: DsfinvkExporter
  /** Cash boxes on a certified cloud TSE instead of the software TSS. */
  remote: RemoteTseService
}

export function createDeServices(stores: DeStores, master: MasterKey, keys: SigningKeys): DeServices {
  const tss = new TssService(stores.tss, master, keys)
  const remote = new RemoteTseService(stores.remote, stores.market, master)
  return {
    tss,
    credentials: new SignDeCredentials(stores.credentials, master),
    market: stores.market,
    dsfinvk: new DsfinvkExporter(stores.market, tss, stores.remote),
    remote,
  }
}

/** The German services of a market registry, for the SIGN DE API, /de/v1 and the CLI. */
export const deServicesOf = (marketFor: (countryCode: number) => Market): DeServices =>
  marketServices<GermanMarket['de']>(marketFor, DE_COUNTRY, 'de')
