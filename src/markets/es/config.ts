import { type Static, type TObject, Type } from 'typebox'
import { DEFAULT_LROE_AT, LROE_AT_PATTERN } from './ticketbai/lroe-window.ts'
import { LIVE_TICKETBAI_ENDPOINTS, type TicketBaiEndpoints } from './ticketbai/endpoints.ts'
import type { Territory } from './ticketbai/territories.ts'

const url = (description: string) => Type.Optional(Type.String({ pattern: '^https?://', description }))

/** Spain's environment variables (docs/country-es.md "Transactions API v1"): where records go. */
export const EsConfigSchema = {
  FISCALBOX_ES_SIMULATOR_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** Without a simulator URL, `serve` starts the simulator in-process for test records (off: none). */
  FISCALBOX_ES_SIMULATOR: Type.Union([Type.Literal('in-process'), Type.Literal('off')], {
    default: 'in-process',
  }),
  FISCALBOX_ES_VERIFACTU_ENDPOINT: Type.Optional(Type.String({ pattern: '^https://' })),
  FISCALBOX_ES_PRODUCER_NIF: Type.Optional(Type.String({ pattern: '^[0-9A-Z][0-9]{7}[0-9A-Z]$' })),
  FISCALBOX_ES_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 300_000, default: 30_000 }),
  /** When Bizkaia's LROE batches go out: HH:MM UTC once a day, or `immediate` (each record when stored). */
  FISCALBOX_ES_LROE_AT: Type.String({ pattern: LROE_AT_PATTERN, default: DEFAULT_LROE_AT }),
  FISCALBOX_ES_TBAI_ARABA_URL: url('live Araba TicketBAI upload endpoint'),
  FISCALBOX_ES_TBAI_ARABA_CANCEL_URL: url('live Araba TicketBAI cancellation endpoint'),
  FISCALBOX_ES_TBAI_GIPUZKOA_URL: url('live Gipuzkoa TicketBAI upload endpoint'),
  FISCALBOX_ES_TBAI_GIPUZKOA_CANCEL_URL: url('live Gipuzkoa TicketBAI cancellation endpoint'),
  FISCALBOX_ES_TBAI_BIZKAIA_URL: url('live Bizkaia LROE endpoint'),
  /**
   * A PEM file of the roots that live authority endpoints are trusted by, instead of the system's: only for
   * a simulator or a private test endpoint in front of them.
   */
  FISCALBOX_ES_AUTHORITY_CA_FILE: Type.Optional(Type.String({ minLength: 1 })),
}

export type EsConfig = Static<TObject<typeof EsConfigSchema>>

/** The live TicketBAI endpoints: the published ones unless the environment names others. */
export function liveTicketBaiEndpoints(config: EsConfig): Record<Territory, TicketBaiEndpoints> {
  const { araba, bizkaia, gipuzkoa } = LIVE_TICKETBAI_ENDPOINTS
  return {
    araba: {
      submit: config.FISCALBOX_ES_TBAI_ARABA_URL ?? araba.submit,
      cancel: config.FISCALBOX_ES_TBAI_ARABA_CANCEL_URL ?? (araba.cancel as string),
    },
    gipuzkoa: {
      submit: config.FISCALBOX_ES_TBAI_GIPUZKOA_URL ?? gipuzkoa.submit,
      cancel: config.FISCALBOX_ES_TBAI_GIPUZKOA_CANCEL_URL ?? (gipuzkoa.cancel as string),
    },
    bizkaia: { submit: config.FISCALBOX_ES_TBAI_BIZKAIA_URL ?? bizkaia.submit },
  }
}
