import { marketServices } from '../module.ts'
import { ErrorCode, FiscalError } from '../../core/errors.ts'
import type { Market } from '../../core/market.ts'
import { type ItConfigRequest, parseItConfig } from './configuration.ts'
import type { HeldState, ItCashboxConfig, ItStore } from './ports.ts'

export const IT_COUNTRY = 0x4954

/** The Italian services of the market, for the API and the CLI. */
export interface ItServices {
  store: ItStore
  configure(cashbox: { queueId: string }, request: ItConfigRequest): Promise<ItCashboxConfig>
  describe(queueId: string): Promise<ItCashboxConfig>
  /** Failed mode: every receipt the cash box held, in order, with its device numbers once printed. */
  heldReceipts(queueId: string): Promise<HeldReceiptView[]>
}

export interface HeldReceiptView {
  receiptNumber: number
  receiptReference: string
  state: HeldState
  error?: string
  document?: { serialNumber: string; zNumber: number; documentNumber: number; moment: string }
}

export interface ItMarket extends Market {
  readonly it: ItServices
}

/** The Italian services of a market registry. */
export const itServicesOf = (marketFor: (countryCode: number) => Market): ItServices =>
  marketServices<ItMarket['it']>(marketFor, IT_COUNTRY, 'it')

export const notConfigured = () =>
  new FiscalError(
    ErrorCode.MarketNotConfigured,
    'this Italian cash box has no RT device yet: set its device and URL first (PUT /it/v1/cashbox or `fiscalbox it configure`, see docs/country-it.md)',
    { field: 'headers.x-cashbox-id', reason: 'the cash box is not configured for Italy yet' },
  )

export function itServices(store: ItStore): ItServices {
  return {
    store,
    async configure(cashbox, request) {
      const config = parseItConfig(request)
      if (await store.saveConfig(cashbox.queueId, config, new Date().toISOString())) return config
      // The documents already printed name this device and its departments: the same settings again are
      // accepted (a repeated PUT), others are not.
      if (JSON.stringify(await store.config(cashbox.queueId)) === JSON.stringify(config)) return config
      throw new FiscalError(
        ErrorCode.Conflict,
        'the cash box has documents printed by its RT device already: its configuration can no longer change (create a new cash box for another device)',
        { field: 'body', reason: 'the configuration of a cash box with documents is fixed' },
      )
    },
    async describe(queueId) {
      const config = await store.config(queueId)
      if (!config) throw notConfigured()
      return config
    },
    async heldReceipts(queueId) {
      return (await store.heldReceipts(queueId)).map((held) => ({
        receiptNumber: held.receiptNumber,
        receiptReference: held.receiptReference,
        state: held.state,
        ...(held.error ? { error: held.error } : {}),
        ...(held.document
          ? {
              document: {
                serialNumber: held.document.serial,
                zNumber: held.document.zNumber,
                documentNumber: held.document.docNumber,
                moment: held.document.deviceMoment,
              },
            }
          : {}),
      }))
    },
  }
}
