import { createPrivateKey, createPublicKey, randomUUID, sign as ecdsaSign } from 'node:crypto'
import { countryCode } from './case-codes.ts'
import { ErrorCode, FiscalError } from './errors.ts'
import { GENESIS_HASH } from './journal-chain.ts'
import type { QueueSigner } from './market.ts'
import type { CashboxRecord, CashboxStore } from './ports.ts'
import { type MasterKey, newAccessToken, newSealedP256, tokenMatches } from './secrets.ts'
import { newTotalizers } from './totalizers.ts'

/** The local installation's single account; tenants of a hosted installation get their own. */
export const DEFAULT_ACCOUNT_ID = '00000000-0000-4000-8000-000000000001'

export interface CreatedCashbox {
  cashboxId: string
  accessToken: string
  queueId: string
  accountId: string
  country: string
  publicKey: string
}

/** Cash boxes, their credentials and their queue keys. Credentials and keys are cached: they never change. */
/**
 * How long the answer of the store for an id (a cash box, or none) is used before it is read again: an id
 * made by `fiscalbox cashbox create` in another process is accepted at the latest after this long.
 */
const CREDENTIALS_TTL_MS = 60_000
const CREDENTIALS_CACHED = 100_000
const ID_FORM = /^[0-9a-fA-F-]{36}$/
/** What an unknown id's token is compared with: no token is known to hash to all zeros. */
const NO_TOKEN_HASH = '0'.repeat(64)

export class Cashboxes {
  private readonly credentials = new Map<string, { cashbox: CashboxRecord | undefined; at: number }>()
  private readonly signers = new Map<string, QueueSigner>()

  constructor(
    private readonly store: CashboxStore,
    private readonly master: MasterKey,
  ) {}

  async create(country: string, label = ''): Promise<CreatedCashbox> {
    const code = countryCode(country)
    const cashboxId = randomUUID()
    const queueId = randomUUID()
    const { token, hash } = newAccessToken()
    const key = newSealedP256(this.master)
    await this.store.insert({
      cashbox: {
        id: cashboxId,
        accountId: DEFAULT_ACCOUNT_ID,
        country,
        label: label || `${country} cash box`,
        accessTokenHash: hash,
        createdAt: new Date().toISOString(),
      },
      accountName: 'local',
      queue: { id: queueId, countryCode: code, genesisHash: GENESIS_HASH, totalizers: newTotalizers() },
      key: { queueId, ...key },
    })
    return {
      cashboxId,
      accessToken: token,
      queueId,
      accountId: DEFAULT_ACCOUNT_ID,
      country,
      publicKey: key.publicKey,
    }
  }

  list(): Promise<CashboxRecord[]> {
    return this.store.list()
  }

  find(cashboxId: string): Promise<CashboxRecord | undefined> {
    return this.store.find(cashboxId)
  }

  /**
   * Resolves the credentials of a request; any mismatch is the same 401 so ids cannot be probed, and costs
   * the same: an unknown id is looked up as often as a known one (both are remembered for CREDENTIALS_TTL_MS)
   * and its token is hashed and compared too, against a hash no token has.
   */
  async authenticate(cashboxId: string | undefined, token: string | undefined): Promise<CashboxRecord> {
    // Made only when needed: an Error captures a stack trace, which costs more than the whole check.
    const denied = () =>
      new FiscalError(
        ErrorCode.Unauthorized,
        'x-cashbox-id and x-cashbox-accesstoken do not identify a cash box: send the id and access token printed by `fiscalbox cashbox create`',
        // The same field whatever was wrong: which of the two did not match is not told.
        { field: 'headers.x-cashbox-accesstoken', reason: 'with x-cashbox-id, must identify a cash box' },
      )
    if (!cashboxId || !token) throw denied()
    const cashbox = await this.lookup(cashboxId)
    if (!tokenMatches(token, cashbox?.accessTokenHash ?? NO_TOKEN_HASH) || !cashbox) throw denied()
    return cashbox
  }

  /** The cash box of an id, or undefined, from the store at most once per CREDENTIALS_TTL_MS per id. */
  private async lookup(cashboxId: string, now = Date.now()): Promise<CashboxRecord | undefined> {
    // Not an id at all: no lookup, but a known id always has this form, so this tells nothing about ids.
    if (!ID_FORM.test(cashboxId)) return undefined
    const cached = this.credentials.get(cashboxId)
    if (cached && now - cached.at < CREDENTIALS_TTL_MS) return cached.cashbox
    const cashbox = await this.store.find(cashboxId.toLowerCase())
    // Least recently stored first: past the bound, the oldest entry goes, known or unknown alike.
    this.credentials.delete(cashboxId)
    if (this.credentials.size >= CREDENTIALS_CACHED) {
      const oldest = this.credentials.keys().next().value
      if (oldest !== undefined) this.credentials.delete(oldest)
    }
    this.credentials.set(cashboxId, { cashbox, at: now })
    return cashbox
  }

  async signer(queueId: string): Promise<QueueSigner> {
    const cached = this.signers.get(queueId)
    if (cached) return cached
    const record = await this.store.signingKey(queueId)
    if (!record) throw new FiscalError(ErrorCode.Internal, `queue ${queueId} has no signing key`)
    const privateKey = createPrivateKey({
      key: this.master.decrypt(record.privateKeyEncrypted),
      format: 'der',
      type: 'pkcs8',
    })
    const signer: QueueSigner = {
      algorithm: record.algorithm,
      publicKey: record.publicKey,
      sign: (data) =>
        ecdsaSign('sha256', Buffer.from(data, 'utf8'), { key: privateKey, dsaEncoding: 'ieee-p1363' }),
    }
    this.signers.set(queueId, signer)
    return signer
  }
}

/** The public key of a queue as a KeyObject, for verifiers. */
export const publicKeyFromSpki = (spkiBase64: string) =>
  createPublicKey({ key: Buffer.from(spkiBase64, 'base64'), format: 'der', type: 'spki' })
