import { type Static, type TObject, Type } from 'typebox'
import { DEFAULT_LROE_AT, LROE_AT_PATTERN } from './ticketbai/lroe-window.ts'

/** Spain's environment variables (docs/country-es.md "Transactions API v1"): where test-environment records go. */
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
}

export type EsConfig = Static<TObject<typeof EsConfigSchema>>
