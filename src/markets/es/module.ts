import { esCashboxSubmitHandler } from './cashbox/submission-job.ts'
import type { MarketModule } from '../module.ts'
import { readFileSync } from 'node:fs'
import { type EsConfig, EsConfigSchema, liveTicketBaiEndpoints } from './config.ts'
import * as esMarket from './migrations/010-es-market.ts'
import * as esRecordsPending from './migrations/015-es-records-pending.ts'
import * as esLocationRecords from './migrations/023-es-location-records.ts'
import { createEsMarket, type EsMarketOptions, esServicesOf } from './cashbox/index.ts'
import type { EsStore } from './cashbox/ports.ts'
import { esCashboxStore } from './cashbox/store.ts'

declare module '../../core/v1/model.ts' {
  interface BatchWindows {
    /** Bizkaia's daily LROE batch (FISCALBOX_ES_LROE_AT); records wait as `pending_lroe` on /v1. */
    lroe: true
  }
}

declare module '../module.ts' {
  interface MarketStores {
    ES: EsStore
  }
  interface MarketSettings {
    /** Spain on /v2/sign: the simulator and endpoints its records go to. */
    es?: EsMarketOptions
  }
}

/**
 * Spain: VERI*FACTU and TicketBAI records on /v2/sign and on the transactions API v1, submitted through the
 * outbox; /es/v1, `fiscalbox es` and the authority simulator. See docs/country-es.md.
 */
export const spain: MarketModule = {
  country: 'ES',
  stores: esCashboxStore,
  // The records of /v2/sign receipts go through the same outbox as v1's, on its clock.
  market: ({ stores, settings, clock, maxAttempts, certificates }) =>
    createEsMarket(
      stores.ES,
      { ...settings.es, clock, ...(maxAttempts ? { maxAttempts } : {}) },
      certificates,
    ),
  // A location's transactions are sealed by the market in their commit, on the location's cash boxes.
  marketSignsTransactions: true,
  batchWindows: ['lroe'],
  jobs: (runtime) => {
    const { store, authorityOf } = esServicesOf(runtime.marketFor)
    return [
      esCashboxSubmitHandler({
        store,
        authorityOf,
        claimBatch: runtime.v1.options.submissionClaimBatch,
        transactions: runtime.v1.deliveries,
        clock: runtime.v1.options.clock,
      }),
    ]
  },
  routes: async () => [{ prefix: '/es/v1', plugin: (await import('./http/index.ts')).esApi }],
  exports: async () => (await import('./exports.ts')).spanishExports,
  commands: async (program, exporter) => {
    ;(await import('./cli/commands.ts')).registerSpainCommands(program)
    ;(await import('../../cli/export-verifactu.ts')).addVerifactuExport(exporter)
  },
  verify: {
    async run(file, options) {
      if (!(await (await import('../../cli/export-verifactu.ts')).isVerifactuXml(file))) return false
      await (await import('./cli/commands.ts')).verifyVerifactuFiles([file], options)
      return true
    },
  },
  migrations: {
    '010-es-market': esMarket,
    '015-es-records-pending': esRecordsPending,
    '023-es-location-records': esLocationRecords,
  },
  config: EsConfigSchema,
  async serve(config: EsConfig) {
    // Test records go to the simulator: without a URL, one in-process (127.0.0.1, a free port, no faults),
    // a web server of its own, loaded only when serving. Live records go to the production endpoints (the
    // AEAT's and the territories' published ones by default), with the certificate a location names.
    let simulatorUrl = config.FISCALBOX_ES_SIMULATOR_URL?.replace(/\/+$/, '')
    let close = async () => {}
    if (!simulatorUrl && config.FISCALBOX_ES_SIMULATOR === 'in-process') {
      const simulator = await (await import('./simulator/app.ts')).startSimulator()
      simulatorUrl = simulator.url
      close = () => simulator.close()
    }
    return {
      settings: {
        es: {
          ...(simulatorUrl ? { simulatorUrl } : {}),
          ...(config.FISCALBOX_ES_VERIFACTU_ENDPOINT
            ? { verifactuEndpoint: config.FISCALBOX_ES_VERIFACTU_ENDPOINT }
            : {}),
          ticketbaiEndpoints: liveTicketBaiEndpoints(config),
          ...(config.FISCALBOX_ES_AUTHORITY_CA_FILE
            ? { authorityCa: readFileSync(config.FISCALBOX_ES_AUTHORITY_CA_FILE, 'utf8') }
            : {}),
          ...(config.FISCALBOX_ES_PRODUCER_NIF ? { producerNif: config.FISCALBOX_ES_PRODUCER_NIF } : {}),
          timeoutMs: config.FISCALBOX_ES_TIMEOUT_MS,
          lroeAt: config.FISCALBOX_ES_LROE_AT,
        },
      },
      banner: [
        `Spain, test records (fsk_test_ keys) go to: ${simulatorUrl ?? 'the AEAT test endpoint (no simulator)'}`,
      ],
      close,
    }
  },
}
