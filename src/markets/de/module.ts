import type { MarketModule } from '../module.ts'
import { deCredentials } from './certificates.ts'
import { DE_ERRORS } from './errors.ts'
import { GermanMarket } from './market/index.ts'
import * as deMarket from './migrations/009-de-market.ts'
import * as deTss from './migrations/004-de-tss.ts'
import * as deRemoteTse from './migrations/021-de-remote-tse.ts'
import { createDeServices, type DeStores } from './services.ts'
import { deCredentialStore } from './store/credentials.ts'
import { deMarketStore } from './store/market.ts'
import { deRemoteTseStore } from './store/remote-tse.ts'
import { tssStore } from './store/tss.ts'

declare module '../module.ts' {
  interface MarketStores {
    DE: DeStores
  }
}

export const TSS_EXPORT_HELP = `
A TAR file is checked as a German TSS export (BSI TR-03151/TR-03153): every log message is parsed and
its signature verified against the certificate in the archive (ECDSA or EC-Schnorr on P-256, P-384 or
brainpool curves), the certificate chain, the signature counter (no gaps or repeats), transaction
numbers, times and file names. Problems are listed by file name; the exit code is 1 when there is any.
A directory, or a TAR with index.xml first, is checked as a DSFinV-K export against its own index.xml:
header and value types of every CSV file, keys between the tables, totals per transaction and closing,
and the TSE signatures of transactions_tse.csv. Problems name the file, row, column and rule.`

/**
 * Germany (KassenSichV): the software TSS, the SIGN DE v2 API, /de/v1, DSFinV-K and `fiscalbox sign-de`.
 * See docs/country-de.md.
 */
export const germany: MarketModule = {
  country: 'DE',
  stores: (database) => ({
    tss: tssStore(database),
    credentials: deCredentialStore(database),
    market: deMarketStore(database),
    remote: deRemoteTseStore(database),
  }),
  async market({ stores, master, keys }) {
    const de = createDeServices(stores.DE, master, keys)
    // The TSS of a DE cash box is created inside its start receipt's unit: the certificate authorities
    // (written in a transaction of their own the very first time) must exist before.
    await de.tss.certificateAuthorities()
    return new GermanMarket(stores.DE.market, de)
  },
  credentials: deCredentials,
  routes: async () => [
    { prefix: '/de/v1', plugin: (await import('./http/index.ts')).deApi },
    { prefix: '/api/v2', plugin: (await import('./sign-de-v2/index.ts')).signDeApiV2 },
  ],
  exports: async () => (await import('./exports.ts')).germanExports,
  commands: async (program, exporter) => {
    ;(await import('./cli/sign-de.ts')).registerSignDeCommands(program, exporter)
    ;(await import('./cli/dsfinvk.ts')).registerDsfinvkCommand(exporter)
    ;(await import('./cli/remote-tse.ts')).registerRemoteTseCommands(program)
  },
  verify: {
    help: TSS_EXPORT_HELP,
    run: async (file, options) =>
      (await import('./cli/verify-export.ts')).verifyGermanExportCommand(file, options),
  },
  migrations: { '004-de-tss': deTss, '009-de-market': deMarket, '021-de-remote-tse': deRemoteTse },
  errors: DE_ERRORS,
}
