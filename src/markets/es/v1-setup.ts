import type { Fiscalizer } from '../../core/v1/fiscalizer.ts'
import { readFileSync } from 'node:fs'
import { type EsConfig, liveTicketBaiEndpoints } from './config.ts'
import { sandboxSigningCredentials } from './sandbox-signer.ts'
import { startSimulator } from './simulator/app.ts'
import { spanishFiscalizers } from './v1-fiscalizer.ts'

/**
 * Spain for `fiscalbox serve`: the fiscalizers of the transactions API v1 and, when no simulator URL is
 * configured, an in-process authority simulator (127.0.0.1, a free port, no faults) that test-environment
 * records go to. Live records go to the production endpoints (the AEAT's and the territories' published
 * ones by default), authenticated and signed with the certificate each location names in the store.
 */
export interface SpainSetup {
  fiscalizers: Record<string, Fiscalizer>
  /** Where test records go (undefined: FISCALBOX_ES_SIMULATOR=off and no URL). */
  simulatorUrl: string | undefined
  close(): Promise<void>
}

export async function spainForServe(config: EsConfig): Promise<SpainSetup> {
  let simulatorUrl = config.FISCALBOX_ES_SIMULATOR_URL?.replace(/\/+$/, '')
  let close = async () => {}
  if (!simulatorUrl && config.FISCALBOX_ES_SIMULATOR === 'in-process') {
    const simulator = await startSimulator()
    simulatorUrl = simulator.url
    close = () => simulator.close()
  }
  const sandbox = await sandboxSigningCredentials()
  const fiscalizers = spanishFiscalizers({
    ...(simulatorUrl ? { simulatorUrl } : {}),
    endpoints: {
      ...(config.FISCALBOX_ES_VERIFACTU_ENDPOINT
        ? { verifactu: config.FISCALBOX_ES_VERIFACTU_ENDPOINT }
        : {}),
      ticketbai: liveTicketBaiEndpoints(config),
    },
    ...(config.FISCALBOX_ES_AUTHORITY_CA_FILE
      ? { authorityCa: readFileSync(config.FISCALBOX_ES_AUTHORITY_CA_FILE, 'utf8') }
      : {}),
    ...(config.FISCALBOX_ES_PRODUCER_NIF
      ? { software: { producerNif: config.FISCALBOX_ES_PRODUCER_NIF } }
      : {}),
    timeoutMs: config.FISCALBOX_ES_TIMEOUT_MS,
    lroeAt: config.FISCALBOX_ES_LROE_AT,
    // Live records are signed and sent with the certificate the location names in the account's store.
    signingCredentials: (_location, environment) => (environment === 'test' ? sandbox : undefined),
  })
  return { fiscalizers, simulatorUrl, close }
}
