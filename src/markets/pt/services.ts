import { createPrivateKey, type KeyObject } from 'node:crypto'
import { ErrorCode, FiscalError, invalid } from '../../core/errors.ts'
import type { Market } from '../../core/market.ts'
import type { MasterKey } from '../../core/secrets.ts'
import { marketServices } from '../module.ts'
import { type PtConfigRequest, parsePtConfig } from './configuration.ts'
import type { PtCashboxConfig, PtStore } from './ports.ts'
import { type SaftExporter, saftExporter } from './saft.ts'
import { publicKeyPem } from './signature.ts'

export const PT_COUNTRY = 0x5054

/** The configuration as GET shows it: everything but the sealed private key. */
export type PtConfigView = Omit<PtCashboxConfig, 'privateKeySealed'>

/** The Portuguese services of the market, for the API and the CLI. */
export interface PtServices {
  configure(cashboxId: string, request: PtConfigRequest): Promise<PtConfigView>
  describe(cashboxId: string): Promise<PtConfigView>
  /** Every configured cash box's signing key (version, public key), for the expiry inventory. */
  signingKeys: PtStore['signingKeys']
  saft: SaftExporter
}

export interface PtMarket extends Market {
  readonly pt: PtServices
}

/** The Portuguese services of a market registry. */
export const ptServicesOf = (marketFor: (countryCode: number) => Market): PtServices =>
  marketServices<PtMarket['pt']>(marketFor, PT_COUNTRY, 'pt')

export const notConfigured = () =>
  new FiscalError(
    ErrorCode.MarketNotConfigured,
    'this Portuguese cash box is not configured yet: set its issuer, certificate, key and series first (PUT /pt/v1/cashbox or `fiscalbox pt configure`, see docs/country-pt.md)',
    { field: 'headers.x-cashbox-id', reason: 'the cash box is not configured for Portugal yet' },
  )

const view = ({ privateKeySealed: _, ...rest }: PtCashboxConfig): PtConfigView => rest

/** Decrypts sealed keys once: a receipt reads the configuration, not the key material, each time. */
export class PtKeys {
  private readonly keys = new Map<string, KeyObject>()
  constructor(private readonly master: MasterKey) {}

  of(config: PtCashboxConfig): KeyObject {
    let key = this.keys.get(config.privateKeySealed)
    if (!key) {
      key = createPrivateKey({
        key: this.master.decrypt(config.privateKeySealed),
        format: 'der',
        type: 'pkcs8',
      })
      if (this.keys.size > 1000) this.keys.clear()
      this.keys.set(config.privateKeySealed, key)
    }
    return key
  }
}

export function ptServices(store: PtStore, master: MasterKey): PtServices {
  return {
    signingKeys: () => store.signingKeys(),
    async configure(cashboxId, request) {
      const { privateKey, ...parsed } = parsePtConfig(request)
      const stored = await store.config(cashboxId)
      if (!privateKey && !stored)
        throw invalid(
          'privateKey',
          'is required the first time: the PEM of the RSA key registered with the AT',
        )
      const publicKey = privateKey ? publicKeyPem(privateKey) : (stored as PtCashboxConfig).publicKey
      // Documents name the key that signed them by its version: another key needs another version.
      if (stored && publicKey !== stored.publicKey && parsed.keyVersion <= stored.keyVersion)
        throw invalid('keyVersion', `must be higher than ${stored.keyVersion} with a new private key`)
      if (stored && publicKey === stored.publicKey && parsed.keyVersion !== stored.keyVersion)
        throw invalid('keyVersion', `belongs to the key: keep ${stored.keyVersion} for the same private key`)
      const config: PtCashboxConfig = {
        ...parsed,
        publicKey,
        privateKeySealed: privateKey
          ? master.encrypt(privateKey.export({ type: 'pkcs8', format: 'der' }))
          : (stored as PtCashboxConfig).privateKeySealed,
      }
      await store.saveConfig(cashboxId, config, new Date().toISOString())
      return view(config)
    },
    async describe(cashboxId) {
      const config = await store.config(cashboxId)
      if (!config) throw notConfigured()
      return view(config)
    },
    saft: saftExporter(store),
  }
}
