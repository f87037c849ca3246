import type { MasterKey } from '../../core/secrets.ts'
import type { Storage } from '../../storage/database.ts'
import { deCredentialRepository } from '../../storage/repositories/de-credentials.ts'
import { tssRepository } from '../../storage/repositories/de-tss.ts'
import { SignDeCredentials } from './credentials.ts'
import { TssService } from './tss/tss-service.ts'

/** Germany's services, built once per process: the TSS and the SIGN DE API credentials. */
export interface DeServices {
  tss: TssService
  credentials: SignDeCredentials
}

export function createDeServices(storage: Storage, master: MasterKey): DeServices {
  return {
    tss: new TssService(tssRepository(storage), master),
    credentials: new SignDeCredentials(deCredentialRepository(storage), master),
  }
}
