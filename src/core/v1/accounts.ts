import { createPrivateKey, randomUUID, sign as ecdsaSign } from 'node:crypto'
import { ErrorCode, FiscalError, invalid } from '../errors.ts'
import type { QueueSigner } from '../market.ts'
import { hashToken, type MasterKey, newSealedP256 } from '../secrets.ts'
import { environmentOfKey, newApiKey } from './api-keys.ts'
import type { FiscalizerFor } from './fiscalizer.ts'
import { locationQueueId } from './location-cashboxes.ts'
import type { AccountRecord, ApiKeyRecord, Environment, LocationRecord } from './model.ts'
import type { AccountStore } from './ports.ts'

export interface Caller {
  account: AccountRecord
  key: ApiKeyRecord
  environment: Environment
}

export interface AccountOptions {
  /** Live keys are refused with 403 unless live fiscalization is enabled on this server. */
  liveEnabled: boolean
}

/** How long a resolved key is trusted without asking storage again (a revocation on another node). */
const KEY_CACHE_MS = 5_000
const KEY_CACHE_MAX = 10_000

const unauthorized = () =>
  new FiscalError(
    ErrorCode.Unauthorized,
    'invalid API key: send Authorization: Bearer fsk_test_… or fsk_live_… (POST /v1/accounts gives the first key)',
  )

/** Accounts, their API keys and their locations; every read and write is scoped to one account. */
export class Accounts {
  private readonly keys = new Map<string, { caller: Caller; at: number }>()
  private readonly signers = new Map<string, QueueSigner>()

  constructor(
    private readonly store: AccountStore,
    private readonly master: MasterKey,
    private readonly fiscalizerFor: FiscalizerFor,
    private readonly options: AccountOptions,
  ) {}

  /** An account by id, for the commands that name one; 404 when there is none. */
  async account(id: string): Promise<AccountRecord> {
    const found = await this.store.findAccount(id)
    if (!found) throw new FiscalError(ErrorCode.NotFound, `no account ${id}`)
    return found
  }

  async createAccount(name: string, billingEmail: string, now = new Date()) {
    const account: AccountRecord = {
      id: randomUUID(),
      name,
      billingEmail: billingEmail.toLowerCase(),
      createdAt: now.toISOString(),
    }
    const key = newApiKey(account.id, 'test', 'default', now)
    const stored = await this.store.createAccount(account, key.record)
    if (!stored) {
      throw new FiscalError(ErrorCode.Conflict, 'an account with this billing_email already exists', {
        field: 'billing_email',
        reason: 'is already used by an account',
      })
    }
    return { account, apiKey: key.secret, key: key.record }
  }

  /** Resolves `Authorization: Bearer fsk_…`; any failure is the same 401, a disabled environment a 403. */
  async authenticate(header: string | undefined, now = Date.now()): Promise<Caller> {
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null
    const presented = match?.[1]
    const environment = presented ? environmentOfKey(presented) : undefined
    if (!presented || !environment) throw unauthorized()
    const hash = hashToken(presented)
    let caller = this.keys.get(hash)
    if (!caller || now - caller.at > KEY_CACHE_MS) {
      const key = await this.store.findKeyByHash(hash)
      if (!key || key.revokedAt !== null) {
        this.keys.delete(hash)
        throw unauthorized()
      }
      const account = await this.store.findAccount(key.accountId)
      if (!account) throw unauthorized()
      caller = { caller: { account, key, environment: key.environment }, at: now }
      if (this.keys.size >= KEY_CACHE_MAX) this.keys.clear()
      this.keys.set(hash, caller)
    }
    if (caller.caller.environment === 'live' && !this.options.liveEnabled) {
      throw new FiscalError(
        ErrorCode.Forbidden,
        'live fiscalization is disabled on this server: use a fsk_test_ key, or ask the operator to set FISCALBOX_LIVE_ENABLED=true',
      )
    }
    return caller.caller
  }

  async createKey(caller: Caller, environment: Environment, name: string) {
    const key = newApiKey(caller.account.id, environment, name, new Date())
    await this.store.insertKey(key.record)
    return { key: key.record, apiKey: key.secret }
  }

  listKeys(caller: Caller) {
    return this.store.listKeys(caller.account.id)
  }

  async revokeKey(caller: Caller, keyId: string): Promise<void> {
    if (!(await this.store.revokeKey(caller.account.id, keyId, new Date().toISOString()))) {
      throw new FiscalError(ErrorCode.NotFound, 'api key not found')
    }
    this.forgetCachedKeys(keyId)
  }

  /** A new key of the same environment and name; the old one stops working at once (same commit). */
  async rotateKey(caller: Caller, keyId: string) {
    const old = (await this.store.listKeys(caller.account.id)).find((k) => k.id === keyId && !k.revokedAt)
    if (!old) throw new FiscalError(ErrorCode.NotFound, 'api key not found')
    const replacement = newApiKey(caller.account.id, old.environment, old.name, new Date())
    if (!(await this.store.rotateKey(caller.account.id, keyId, replacement.record))) {
      throw new FiscalError(ErrorCode.NotFound, 'api key not found')
    }
    this.forgetCachedKeys(keyId)
    return { key: replacement.record, apiKey: replacement.secret, revoked: keyId }
  }

  private forgetCachedKeys(keyId: string): void {
    for (const [hash, entry] of this.keys) if (entry.caller.key.id === keyId) this.keys.delete(hash)
  }

  async createLocation(
    caller: Caller,
    input: { name: string; country: string; countryConfig: Record<string, unknown> },
  ): Promise<LocationRecord> {
    if (!/^[A-Z]{2}$/.test(input.country))
      throw invalid('country', 'must be an ISO 3166-1 alpha-2 code, e.g. ES')
    // Refuses a country (or a country's authority system) this server cannot fiscalize, before anything is stored.
    const fiscalizer = this.fiscalizerFor(
      { country: input.country, countryConfig: input.countryConfig },
      'creating',
    )
    const key = newSealedP256(this.master)
    const location: LocationRecord = {
      id: randomUUID(),
      accountId: caller.account.id,
      name: input.name,
      country: input.country,
      // Secrets of the settings (e.g. a signing key) are kept by the fiscalizer, sealed, not with the location.
      countryConfig: fiscalizer.storedConfig?.(input.countryConfig) ?? input.countryConfig,
      active: true,
      publicKey: key.publicKey,
      createdAt: new Date().toISOString(),
      deactivatedAt: null,
    }
    await this.store.insertLocation({ ...location, privateKeyEncrypted: key.privateKeyEncrypted })
    await fiscalizer.prepareLocation?.({ ...location, countryConfig: input.countryConfig })
    return location
  }

  /** What the location's fiscalizer shows of its set-up (e.g. the cash boxes it signs on). */
  locationDetails(location: LocationRecord): Record<string, unknown> {
    try {
      return this.fiscalizerFor(location).locationDetails?.(location) ?? {}
    } catch {
      // A location whose fiscalizer this server does not run (any more) has nothing to show of it.
      return {}
    }
  }

  /**
   * The queues of the account's location cash boxes in the caller's environment: the groups of the jobs a
   * market that seals transactions itself enqueues.
   */
  async locationQueues(caller: Caller): Promise<string[]> {
    const queues: string[] = []
    for (let offset = 0; ; offset += 500) {
      const page = await this.store.listLocations(caller.account.id, 500, offset)
      queues.push(...page.data.map((location) => locationQueueId(location.id, caller.environment)))
      if (page.data.length < 500) return queues
    }
  }

  listLocations(caller: Caller, limit: number, offset: number) {
    return this.store.listLocations(caller.account.id, limit, offset)
  }

  async location(caller: Caller, id: string): Promise<LocationRecord> {
    const location = isUuid(id) ? await this.store.findLocation(caller.account.id, id) : undefined
    if (!location) throw new FiscalError(ErrorCode.NotFound, 'location not found')
    return location
  }

  async deactivateLocation(caller: Caller, id: string): Promise<LocationRecord> {
    const location = isUuid(id)
      ? await this.store.deactivateLocation(caller.account.id, id, new Date().toISOString())
      : undefined
    if (!location) throw new FiscalError(ErrorCode.NotFound, 'location not found')
    return location
  }

  /** The location's P-256 key, decrypted once and cached: it never changes. */
  async signer(locationId: string): Promise<QueueSigner> {
    const cached = this.signers.get(locationId)
    if (cached) return cached
    const stored = await this.store.locationKey(locationId)
    if (!stored) throw new FiscalError(ErrorCode.Internal, `location ${locationId} has no key`)
    const privateKey = createPrivateKey({
      key: this.master.decrypt(stored.privateKeyEncrypted),
      format: 'der',
      type: 'pkcs8',
    })
    const signer: QueueSigner = {
      algorithm: 'ECDSA-P256-SHA256',
      publicKey: stored.publicKey,
      sign: (data) =>
        ecdsaSign('sha256', Buffer.from(data, 'utf8'), { key: privateKey, dsaEncoding: 'ieee-p1363' }),
    }
    this.signers.set(locationId, signer)
    return signer
  }
}

export const isUuid = (value: string): boolean =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)
