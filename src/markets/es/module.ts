import { esCashboxSubmitHandler } from './cashbox/submission-job.ts'
import type { MarketModule } from '../module.ts'
import { type EsConfig, EsConfigSchema } from './config.ts'
import { spanishSystemOf, validateSpanishConfig } from './location-config.ts'
import * as esMarket from './migrations/010-es-market.ts'
import * as esRecordsPending from './migrations/015-es-records-pending.ts'
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
  market: ({ stores, settings, clock, maxAttempts }) =>
    createEsMarket(stores.ES, { ...settings.es, clock, ...(maxAttempts ? { maxAttempts } : {}) }),
  fiscalizerKey: (countryConfig) => {
    validateSpanishConfig(countryConfig)
    return spanishSystemOf(countryConfig)
  },
  batchWindows: ['lroe'],
  jobs: (runtime) => {
    const { store, authorityOf } = esServicesOf(runtime.marketFor)
    return [
      esCashboxSubmitHandler({ store, authorityOf, claimBatch: runtime.v1.options.submissionClaimBatch }),
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
  migrations: { '010-es-market': esMarket, '015-es-records-pending': esRecordsPending },
  config: EsConfigSchema,
  async serve(config: EsConfig) {
    // The simulator is a web server of its own: loaded only when serving.
    const setup = await (await import('./v1-setup.ts')).spainForServe(config)
    return {
      fiscalizers: setup.fiscalizers,
      settings: {
        es: {
          ...(setup.simulatorUrl ? { simulatorUrl: setup.simulatorUrl } : {}),
          ...(config.FISCALBOX_ES_VERIFACTU_ENDPOINT
            ? { verifactuEndpoint: config.FISCALBOX_ES_VERIFACTU_ENDPOINT }
            : {}),
          ...(config.FISCALBOX_ES_PRODUCER_NIF ? { producerNif: config.FISCALBOX_ES_PRODUCER_NIF } : {}),
          timeoutMs: config.FISCALBOX_ES_TIMEOUT_MS,
          lroeAt: config.FISCALBOX_ES_LROE_AT,
        },
      },
      banner: [
        `Spain, test records (fsk_test_ keys) go to: ${setup.simulatorUrl ?? 'the AEAT test endpoint (no simulator)'}`,
      ],
      close: setup.close,
    }
  },
}
