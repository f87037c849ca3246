import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from './config.ts'
import { Cashboxes } from './core/cashboxes.ts'
import { Dashboard } from './core/dashboard/dashboard.ts'
import { Operators } from './core/dashboard/operators.ts'
import { Certificates, storedCertificateCredentials } from './core/certificates/certificates.ts'
import type { ExportRunStore } from './core/dashboard/ports.ts'
import { CredentialInventory, type CredentialSource } from './core/credentials.ts'
import { PayService } from './core/payments/pay-service.ts'
import type { Market } from './core/market.ts'
import { MasterKey } from './core/secrets.ts'
import { SigningKeys } from './core/signing-keys.ts'
import { SignService } from './core/sign-service.ts'
import { Terminals } from './core/terminals.ts'
import { LocationCashboxes } from './core/v1/location-cashboxes.ts'
import { marketSignedFiscalizer } from './core/v1/market-signed.ts'
import { openConfiguredToken, type Pkcs11Config } from './hsm/settings.ts'
import { marketModules } from './markets/index.ts'
import { Metrics } from './metrics/metrics.ts'
import type { MarketSettings } from './markets/module.ts'
import { createMarketRegistry, type MarketFor } from './markets/registry.ts'
import { createPaymentProviders } from './payments/registry.ts'
import { PaymentSimulator } from './payments/simulator.ts'
import { IssueService } from './receipts/issue-service.ts'
import { openStorage, type Storage } from './storage/database.ts'
import { cashboxRepository, metaRepository } from './storage/repositories/cashboxes.ts'
import { certificateStore } from './storage/repositories/certificates.ts'
import { dashboardRepository } from './storage/repositories/dashboard.ts'
import { journalRepository } from './storage/repositories/journal.ts'
import { createLedger } from './storage/repositories/ledger.ts'
import { issuedReceiptRepository } from './storage/repositories/issued-receipts.ts'
import { operatorRepository } from './storage/repositories/operators.ts'
import { exportRunRepository } from './storage/repositories/export-runs.ts'
import { paymentRepository } from './storage/repositories/payments.ts'
import { terminalRepository } from './storage/repositories/terminals.ts'
import { accountStore } from './storage/repositories/v1-accounts.ts'
import { transactionStore } from './storage/repositories/v1-transactions.ts'
import { marketStores } from './storage/market-stores.ts'
import { operatorReadings } from './storage/repositories/operator-readings.ts'
import { createV1Runtime, DEFAULT_V1_OPTIONS, type V1Runtime, type V1Settings } from './v1-runtime.ts'

/** The composition root: storage, master key and the core services, wired once per process. */
export interface Runtime {
  storage: Storage
  cashboxes: Cashboxes
  signService: SignService
  marketFor: MarketFor
  journal: ReturnType<typeof journalRepository>
  payments: PayService
  /** The built-in simulator terminal, unless PAYMENT_SIMULATOR=off. */
  paymentSimulator: PaymentSimulator | undefined
  receipts: IssueService
  /** Terminals paired with each cash box (POST /v2/configuration). */
  terminals: Terminals
  /** The transactions API v1: accounts, transactions and the jobs outbox (src/v1-runtime.ts). */
  v1: V1Runtime
  /** Dashboard operators and what they see (src/api/dashboard/). */
  operators: Operators
  dashboard: Dashboard
  /** Exports started from the dashboard (src/api/dashboard/export-runs.ts). */
  exportRuns: ExportRunStore
  /**
   * Settles when the reservations left by a process that died between a receipt's two transactions have
   * been recovered (started at open, in the background: a unit that does not answer must not hold up
   * start-up); the number of queues it settled.
   */
  reservationsRecovered: Promise<number>
  /** The process's Prometheus metrics (served by GET /metrics when configured). */
  metrics: Metrics
  /** Every market's certificates and keys with their expiry (core/credentials.ts). */
  credentials: CredentialInventory
  /** Where signing keys are made and opened (core/signing-keys.ts, docs/hsm.md). */
  signingKeys: SigningKeys
  close(): Promise<void>
}

/** Besides its own, each market module's options (markets/module.ts `MarketSettings`). */
export interface RuntimeOptions extends MarketSettings {
  /** A simulator terminal that outlives this runtime (restart tests), or false for none. */
  paymentSimulator?: PaymentSimulator | false
  /** The transactions API v1's settings (rate limits, workers, fiscalizers). */
  v1?: V1Settings
  /**
   * Puts another market in front of a country's, or in its place (tests and benches: an external unit
   * double, a fault decorator around a real market).
   */
  markets?: (countryCode: number, market: Market) => Market
}

export async function openRuntime(
  config: Pick<Config, 'DATABASE_URL' | 'FISCALBOX_DATA_DIR' | 'FISCALBOX_MASTER_KEY' | 'PG_POOL_SIZE'> &
    Partial<Pick<Config, 'PAYMENT_SIMULATOR'>> &
    Pkcs11Config,
  options: RuntimeOptions = {},
): Promise<Runtime> {
  const metrics = new Metrics()
  const storage = await openStorage(config.DATABASE_URL, {
    poolSize: config.PG_POOL_SIZE,
    observeCommit: metrics.commitObserved,
  })
  let token: ReturnType<typeof openConfiguredToken> = undefined
  try {
    const master = await unlockMasterKey(storage, config)
    token = openConfiguredToken(config)
    const signingKeys = new SigningKeys(master, token)
    const cashboxes = new Cashboxes(cashboxRepository(storage), signingKeys)
    const maxAttempts = options.v1?.engine?.maxAttempts
    // Markets whose records go out later use the outbox of the transactions API, on its clock.
    const clock = options.v1?.clock ?? DEFAULT_V1_OPTIONS.clock
    const certificates = new Certificates(certificateStore(storage), master, clock)
    const registered = await createMarketRegistry({
      stores: marketStores(storage),
      master,
      keys: signingKeys,
      certificates,
      settings: options,
      clock,
      ...(maxAttempts ? { maxAttempts } : {}),
    })
    const override = options.markets
    const marketFor: MarketFor = override ? (code) => override(code, registered(code)) : registered
    const simulator =
      options.paymentSimulator ?? (config.PAYMENT_SIMULATOR === 'off' ? false : new PaymentSimulator())
    const payments = new PayService(paymentRepository(storage), createPaymentProviders({ simulator }))
    const signService = new SignService(createLedger(storage), cashboxes, marketFor, undefined, metrics)
    // Locations of a country whose market signs are signed by that market on cash boxes of their own.
    const locationSigning = new LocationCashboxes(cashboxes, signService, marketFor)
    const marketSigned = Object.fromEntries(
      marketModules
        .filter((module) => module.marketSignsTransactions)
        .map((module) => [module.country, marketSignedFiscalizer(module.country, locationSigning)]),
    )
    const v1 = createV1Runtime(
      storage,
      master,
      { ...options.v1, fiscalizers: { ...marketSigned, ...options.v1?.fiscalizers } },
      certificates,
    )
    const reservationsRecovered = signService.recoverReservations()
    // Observed by close() and by whoever awaits it; never an unhandled rejection.
    reservationsRecovered.catch(() => {})
    const credentialSources: CredentialSource[] = [storedCertificateCredentials(certificateStore(storage))]
    const runtime: Runtime = {
      storage,
      cashboxes,
      marketFor,
      signService,
      reservationsRecovered,
      journal: journalRepository(storage),
      payments,
      paymentSimulator: simulator || undefined,
      receipts: new IssueService(issuedReceiptRepository(storage), cashboxes),
      terminals: new Terminals(terminalRepository(storage)),
      v1,
      operators: new Operators(operatorRepository(storage)),
      dashboard: new Dashboard(
        dashboardRepository(storage),
        accountStore(storage),
        transactionStore(storage),
        v1.jobStore,
        clock,
      ),
      exportRuns: exportRunRepository(storage),
      metrics,
      credentials: new CredentialInventory(
        credentialSources,
        async () => new Map((await cashboxes.list()).map((c) => [c.id, c.accountId])),
        clock,
      ),
      signingKeys,
      close: async () => {
        await reservationsRecovered.catch(() => 0)
        await v1.stop()
        await storage.close()
        token?.close()
      },
    }
    for (const module of marketModules) {
      for (const handler of module.jobs?.(runtime) ?? []) v1.jobs.register(handler)
      if (module.credentials) credentialSources.push(module.credentials(runtime))
    }
    metrics.watch({
      readings: operatorReadings(storage),
      ...(storage.poolUse ? { poolUse: storage.poolUse } : {}),
      credentials: runtime.credentials,
      clock,
    })
    return runtime
  } catch (error) {
    await storage.close()
    token?.close()
    throw error
  }
}

const KEY_FILE = 'master.key'
const CHECK = 'master_key_check'

/**
 * The master key comes from FISCALBOX_MASTER_KEY or from a key file (mode 0600) in the data directory,
 * generated on the very first start. Its check value is stored with the data: a different key later means
 * the keys at rest cannot be opened, so start-up stops rather than sign with something else.
 */
async function unlockMasterKey(
  storage: Storage,
  config: Pick<Config, 'FISCALBOX_DATA_DIR' | 'FISCALBOX_MASTER_KEY'>,
): Promise<MasterKey> {
  const meta = metaRepository(storage)
  const file = join(config.FISCALBOX_DATA_DIR, KEY_FILE)
  let master: MasterKey
  if (config.FISCALBOX_MASTER_KEY) {
    master = MasterKey.fromText(config.FISCALBOX_MASTER_KEY)
  } else if (existsSync(file)) {
    master = MasterKey.fromText(readFileSync(file, 'utf8'))
  } else {
    if (await meta.get(CHECK)) {
      throw new Error(
        `the database holds keys sealed by a master key, but neither FISCALBOX_MASTER_KEY nor ${file} is there: restore the key file or set the variable`,
      )
    }
    const generated = MasterKey.generate()
    mkdirSync(config.FISCALBOX_DATA_DIR, { recursive: true })
    writeFileSync(file, `${generated.text}\n`, { mode: 0o600, flag: 'wx' })
    chmodSync(file, 0o600)
    master = generated.key
  }
  const stored = await meta.putIfAbsent(CHECK, master.checkValue())
  if (stored !== master.checkValue()) {
    throw new Error(
      "wrong master key: it does not open the keys stored in this database. Set FISCALBOX_MASTER_KEY (or the data directory's master.key) to the key this database was created with",
    )
  }
  return master
}
