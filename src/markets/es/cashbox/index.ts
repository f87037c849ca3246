import { marketServices } from '../../module.ts'
import { ErrorCode, FiscalError } from '../../../core/errors.ts'
import type { CashboxSettings, Market } from '../../../core/market.ts'
import type { SpanishAuthority } from '../authority.ts'
import { spanishAuthorityFor } from '../index.ts'
import type { TicketBaiRecord } from '../ticketbai/issue.ts'
import { DEFAULT_LROE_AT, parseLroeSchedule } from '../ticketbai/lroe-window.ts'
import type { SigningCredentials } from '../ticketbai/xades.ts'
import { LIVE_TICKETBAI_ENDPOINTS, type TicketBaiEndpoints } from '../ticketbai/endpoints.ts'
import type { Territory } from '../ticketbai/territories.ts'
import type { CertificateSource } from '../../../core/certificates/certificates.ts'
import { FISCALBOX_SOFTWARE } from '../software.ts'
import { memoryPacer } from '../verifactu/authority.ts'
import type { VerifactuRecord } from '../verifactu/records.ts'
import {
  checkLocationSettings,
  type EsConfigRequest,
  locationEsConfig,
  parseCashboxConfig,
} from './configuration.ts'
import { certificateSummary, clientCertificateOf, namedCertificate } from './certificates.ts'
import { ES_COUNTRY, notConfigured, SpanishPosMarket } from './market.ts'
import type { EsCashboxConfig, EsListedRecord, EsRecordQuery, EsStore } from './ports.ts'

/** Where Spanish /v2/sign records go and what signs them (serve: from the FISCALBOX_ES_* settings). */
export interface EsMarketOptions {
  /** test cash boxes: the authority simulator's base URL (none: test records wait in the outbox) */
  simulatorUrl?: string
  /** production VERI*FACTU endpoint (default: the AEAT's) */
  verifactuEndpoint?: string
  /** production TicketBAI endpoints per territory (default: the territories' published ones) */
  ticketbaiEndpoints?: Partial<Record<Territory, TicketBaiEndpoints>>
  /** trusted roots of production endpoints instead of the system's: a simulator's or a private test endpoint's */
  authorityCa?: string
  producerNif?: string
  timeoutMs?: number
  /** TicketBAI signing certificate of test cash boxes (default: a self-signed one made at start) */
  testCredentials?: SigningCredentials
  /** attempts of a record's submission before the dead letter */
  maxAttempts?: number
  /** when Bizkaia's LROE batches go out: `HH:MM` UTC or `immediate` (FISCALBOX_ES_LROE_AT, default 02:00) */
  lroeAt?: string
  /** the outbox's clock (epoch milliseconds; tests move it) */
  clock?: () => number
  /**
   * VERI*FACTU records are due at the next multiple of this many ms of the clock (default 1000), so that a
   * cash box's records of one tick go in one submission; the AEAT's own TiempoEsperaEnvio (60 s) is longer.
   */
  submissionTickMs?: number
}

/** A cash box's configuration as its views show it: with the certificate it names as that is now. */
export interface EsCashboxDescription extends EsCashboxConfig {
  /** null: the account no longer holds the certificate named */
  certificate?: ReturnType<typeof certificateSummary> | null
}

type OwnedCashbox = { id: string; queueId: string; accountId: string }

export interface EsServices {
  store: EsStore
  /**
   * Checks the request, and the certificate it names in the store of the cash box's account (a production
   * configuration must name one it can use), before anything is written.
   */
  configure(cashbox: OwnedCashbox, request: EsConfigRequest): Promise<EsCashboxDescription>
  describe(cashbox: Omit<OwnedCashbox, 'id'>): Promise<EsCashboxDescription>
  /** The records, each with the batch window its submission is held for (as of the outbox's clock). */
  records(queueId: string, query: EsRecordQuery): Promise<EsListedRecord[]>
  /**
   * The authority of a cash box's records, with the stored certificate its configuration names as it is now
   * (one per cash box, cached; rebuilt when the certificate is replaced, a new version).
   */
  authorityOf(
    queueId: string,
    config: EsCashboxConfig,
    accountId: string,
  ): Promise<SpanishAuthority<VerifactuRecord | TicketBaiRecord>>
}

export interface EsMarket extends Market {
  readonly es: EsServices
}

/** The Spanish services (configuration, records) of a market registry, for the API, the CLI and the outbox. */
export const esServicesOf = (marketFor: (countryCode: number) => Market): EsServices =>
  marketServices<EsMarket['es']>(marketFor, ES_COUNTRY, 'es')

const conflict = (message: string) =>
  new FiscalError(ErrorCode.Conflict, message, {
    field: 'body',
    reason: 'the configuration of a cash box with records is fixed',
  })

/**
 * `certificates`: the accounts' stored certificates, of which a location cash box's authenticates its
 * submissions (and signs its TicketBAI invoices, see market.ts).
 */
export function createEsMarket(
  store: EsStore,
  options: EsMarketOptions,
  certificates?: CertificateSource,
): EsMarket {
  const software = {
    ...FISCALBOX_SOFTWARE,
    ...(options.producerNif ? { producerNif: options.producerNif } : {}),
  }
  const clock = options.clock ?? Date.now
  const market = new SpanishPosMarket(store, {
    software,
    ...(options.testCredentials ? { testCredentials: options.testCredentials } : {}),
    maxAttempts: options.maxAttempts ?? 50,
    lroeSchedule: parseLroeSchedule(options.lroeAt ?? DEFAULT_LROE_AT),
    clock,
    submissionTickMs: options.submissionTickMs ?? 1_000,
    ...(certificates ? { certificates } : {}),
  })
  const pacer = memoryPacer()
  const ticketbaiEndpoints = { ...LIVE_TICKETBAI_ENDPOINTS, ...options.ticketbaiEndpoints }
  const authorities = new Map<
    string,
    { key: string; authority: SpanishAuthority<VerifactuRecord | TicketBaiRecord> }
  >()
  const save = async (queueId: string, config: EsCashboxConfig) => {
    const saved = await store.saveConfig(queueId, config, new Date().toISOString())
    if (!saved) {
      const current = await store.config(queueId)
      if (JSON.stringify(current) !== JSON.stringify(config))
        throw conflict(
          'the cash box has Spanish records already: its configuration can no longer change (create a new cash box)',
        )
    }
    return config
  }
  const described = async (accountId: string, config: EsCashboxConfig): Promise<EsCashboxDescription> => {
    const certificate = await market.certificateView(accountId, config)
    return { ...config, ...(certificate === undefined ? {} : { certificate }) }
  }
  const es: EsServices = {
    store,
    async configure(cashbox, request) {
      const config = parseCashboxConfig(cashbox.id, request)
      const stored = config.certificateId
        ? await certificates?.activeMaterial(cashbox.accountId, config.certificateId)
        : undefined
      namedCertificate(config, stored)
      return described(cashbox.accountId, await save(cashbox.queueId, config))
    },
    async describe({ queueId, accountId }) {
      const config = await store.config(queueId)
      if (!config) throw notConfigured()
      return described(accountId, config)
    },
    async records(queueId, query) {
      const records = await store.records(queueId, query)
      const held = await store.heldOf(
        queueId,
        records.filter((r) => r.status === 'pending').map((r) => r.seq),
        clock(),
      )
      return records.map((record) => {
        const hold = held.get(record.seq)
        return {
          ...record,
          held: hold ? { window: hold.window, until: new Date(hold.until).toISOString() } : null,
        }
      })
    },
    async authorityOf(queueId, config, accountId) {
      const stored = config.certificateId
        ? await certificates?.activeMaterial(accountId, config.certificateId)
        : undefined
      const key = JSON.stringify([config, stored?.versionId])
      const cached = authorities.get(queueId)
      if (cached?.key === key) return cached.authority
      const production = config.environment === 'production'
      const certificate = clientCertificateOf(stored, production ? options.authorityCa : undefined)
      const tbai = production && config.territory ? ticketbaiEndpoints[config.territory] : undefined
      const made = spanishAuthorityFor(
        {
          system: config.system,
          ...(config.territory ? { territory: config.territory } : {}),
          taxpayer: { nif: config.nif, name: config.name },
          environment: config.environment,
          ...(certificate ? { certificate } : {}),
          endpoints: {
            ...(production && options.verifactuEndpoint ? { verifactu: options.verifactuEndpoint } : {}),
            ...(tbai
              ? {
                  ticketbai: tbai.submit,
                  ...(tbai.query ? { ticketbaiQuery: tbai.query } : {}),
                  ...(tbai.cancel ? { ticketbaiCancel: tbai.cancel } : {}),
                }
              : {}),
          },
          ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        },
        { ...(options.simulatorUrl ? { simulatorUrl: options.simulatorUrl } : {}), pacer, clock },
      )
      const authority = made.authority as SpanishAuthority<VerifactuRecord | TicketBaiRecord>
      authorities.set(queueId, { key, authority })
      return authority
    },
  }
  // A location of the transactions API v1 has a cash box per environment, configured from its country_config.
  const cashboxSettings: CashboxSettings = {
    check: checkLocationSettings,
    async apply(cashbox, settings, owner) {
      const config = owner
        ? locationEsConfig(cashbox.id, settings, owner)
        : parseCashboxConfig(cashbox.id, settings)
      await save(cashbox.queueId, config)
    },
  }
  return Object.assign(market, { es, cashboxSettings })
}
