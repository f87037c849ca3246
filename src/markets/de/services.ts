import type { MasterKey } from '../../core/secrets.ts'
import type { Storage } from '../../storage/database.ts'
import { deCredentialRepository } from '../../storage/repositories/de-credentials.ts'
import { deMarketRepository } from '../../storage/repositories/de-market.ts'
import { tssRepository } from '../../storage/repositories/de-tss.ts'
import { SignDeCredentials } from './credentials.ts'
import { DsfinvkExporter } from './dsfinvk/exporter.ts'
import type { DeStore } from './market/ports.ts'
import { TssService } from './tss/tss-service.ts'

/**
 * Germany's services, built once per process: the TSS, the SIGN DE API credentials, and for the DE market
 * on /v2/sign its store (cash boxes, receipts) and the DSFinV-K export.
 */
export interface DeServices {
  tss: TssService
  credentials: SignDeCredentials
  market: DeStore
  dsfinvk: DsfinvkExporter
}

export function createDeServices(storage: Storage, master: MasterKey): DeServices {
  const tss = new TssService(tssRepository(storage), master)
  const market = deMarketRepository(storage)
  return {
    tss,
    credentials: new SignDeCredentials(deCredentialRepository(storage), master),
    market,
    dsfinvk: new DsfinvkExporter(market, tss),
  }
}
