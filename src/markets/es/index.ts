import { invalid } from '../../core/errors.ts'
import type { SpanishAuthority } from './authority.ts'
import { TicketBaiAuthority } from './ticketbai/authority.ts'
import type { TicketBaiRecord } from './ticketbai/issue.ts'
import { TBAI_PATHS } from './ticketbai/protocol.ts'
import { TERRITORIES, type Territory } from './ticketbai/territories.ts'
import type { ClientCertificate } from './transport.ts'
import { VerifactuAuthority, type SubmissionPacer } from './verifactu/authority.ts'
import { AEAT_ENDPOINTS, VERIFACTU_PATH } from './verifactu/namespaces.ts'
import type { VerifactuRecord } from './verifactu/records.ts'

/**
 * Spain for the rest of fiscalbox: one place that turns a location's Spanish configuration into the
 * authority its records go to. Test environments (fsk_test_ keys) go to the simulator unless an
 * endpoint is configured; production VERI*FACTU goes to the AEAT endpoints of the WSDL; production
 * TicketBAI endpoints are given (they are published per territory, outside the AEAT WSDL: see
 * ticketbai/endpoints.ts for the defaults).
 */
export interface SpainLocationConfig {
  system: 'verifactu' | 'ticketbai'
  territory?: Territory
  taxpayer: { nif: string; name: string }
  environment: 'test' | 'production'
  certificate?: ClientCertificate
  /** the AEAT "sello" (company seal) endpoints instead of the personal-certificate ones */
  sealCertificate?: boolean
  endpoints?: { verifactu?: string; ticketbai?: string; ticketbaiCancel?: string; ticketbaiQuery?: string }
  timeoutMs?: number
}

export type SpainAuthority =
  | { system: 'verifactu'; authority: SpanishAuthority<VerifactuRecord> }
  | { system: 'ticketbai'; authority: SpanishAuthority<TicketBaiRecord> }

export function spanishAuthorityFor(
  config: SpainLocationConfig,
  options: { simulatorUrl?: string; pacer?: SubmissionPacer; clock?: () => number } = {},
): SpainAuthority {
  const simulator = config.environment === 'test' ? options.simulatorUrl : undefined
  const common = {
    ...(config.certificate ? { certificate: config.certificate } : {}),
    ...(config.timeoutMs ? { timeoutMs: config.timeoutMs } : {}),
  }
  if (config.system === 'verifactu') {
    const official =
      config.environment === 'production'
        ? config.sealCertificate
          ? AEAT_ENDPOINTS.productionSeal
          : AEAT_ENDPOINTS.production
        : config.sealCertificate
          ? AEAT_ENDPOINTS.testSeal
          : AEAT_ENDPOINTS.test
    const endpoint = config.endpoints?.verifactu ?? (simulator ? `${simulator}${VERIFACTU_PATH}` : official)
    return {
      system: 'verifactu',
      authority: new VerifactuAuthority({
        endpoint,
        taxpayer: config.taxpayer,
        ...common,
        ...(options.pacer ? { pacer: options.pacer } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
      }),
    }
  }
  const territory = config.territory
  if (!territory || !TERRITORIES.includes(territory))
    throw invalid('country_config.territory', 'TicketBAI needs the territory: araba, bizkaia or gipuzkoa')
  const path = territory === 'bizkaia' ? TBAI_PATHS.lroe : TBAI_PATHS.upload
  const endpoint = config.endpoints?.ticketbai ?? (simulator ? `${simulator}${path}/${territory}` : undefined)
  const queryEndpoint =
    config.endpoints?.ticketbaiQuery ??
    (simulator ? `${simulator}${TBAI_PATHS.query}/${territory}` : undefined)
  const cancelEndpoint =
    config.endpoints?.ticketbaiCancel ??
    (simulator ? `${simulator}${TBAI_PATHS.cancel}/${territory}` : undefined)
  if (!endpoint)
    throw invalid('country_config.endpoints', `configure the ${territory} TicketBAI submission endpoint`)
  return {
    system: 'ticketbai',
    authority: new TicketBaiAuthority({
      territory,
      endpoint,
      ...(queryEndpoint ? { queryEndpoint } : {}),
      ...(cancelEndpoint ? { cancelEndpoint } : {}),
      taxpayer: config.taxpayer,
      ...common,
    }),
  }
}

export type { QueryResult, RecordOutcome, SpanishAuthority, SubmissionResult } from './authority.ts'
