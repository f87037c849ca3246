import { createPublicKey, randomUUID } from 'node:crypto'
import { countryCode } from './case-codes.ts'
import { ErrorCode, FiscalError } from './errors.ts'
import { GENESIS_HASH } from './journal-chain.ts'
import type { QueueSigner } from './market.ts'
import type { CashboxRecord, CashboxStore } from './ports.ts'
import { hashesMatch, hashToken, newAccessToken } from './secrets.ts'
import type { SigningKeys } from './signing-keys.ts'
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

const QUEUE_KEY_ALGORITHM = 'ECDSA-P256-SHA256'

const ID_FORM = /^[0-9a-fA-F-]{36}$/
/** What an unknown id's token is compared with: no token is known to hash to all zeros. */
const NO_TOKEN_HASH = '0'.repeat(64)

export interface CashboxSpec {
  id: string
  queueId: string
  accountId: string
  country: string
  label: string
}

/** Cash boxes, their credentials and their queue keys. Credentials and keys are cached: they never change. */
export class Cashboxes {
  private readonly cache = new Map<string, CashboxRecord>()
  private readonly signers = new Map<string, QueueSigner>()

  constructor(
    private readonly store: CashboxStore,
    private readonly keys: SigningKeys,
  ) {}

  /** A POS cash box; of the local account unless another's (a tenant whose operators see only theirs). */
  async create(country: string, label = '', accountId = DEFAULT_ACCOUNT_ID): Promise<CreatedCashbox> {
    return this.insert({
      id: randomUUID(),
      queueId: randomUUID(),
      accountId,
      country,
      label,
    })
  }

  /**
   * The cash box with this id, created (with these settings) when there is none yet; for cash boxes whose
   * id follows from what they serve, e.g. a transactions API location's. Its access token is never shown:
   * such a cash box is signed on by fiscalbox itself, not by a POS.
   */
  async ensure(spec: CashboxSpec): Promise<CashboxRecord> {
    const existing = await this.find(spec.id)
    if (existing) return existing
    try {
      await this.insert(spec)
    } catch (error) {
      // Another request created it first (the id is the primary key): that one is the cash box.
      const raced = await this.find(spec.id)
      if (raced) return raced
      throw error
    }
    const created = await this.find(spec.id)
    if (!created) throw new FiscalError(ErrorCode.Internal, `cash box ${spec.id} vanished after its commit`)
    return created
  }

  private async insert(spec: CashboxSpec): Promise<CreatedCashbox> {
    const { id: cashboxId, queueId, accountId, country, label } = spec
    const code = countryCode(country)
    const { token, hash } = newAccessToken()
    const { key, stored } = this.keys.generate('P-256', `fiscalbox queue ${queueId}`)
    const publicKey = key.publicKey.toString('base64')
    try {
      await this.store.insert({
        cashbox: {
          id: cashboxId,
          accountId,
          country,
          label: label || `${country} cash box`,
          accessTokenHash: hash,
          createdAt: new Date().toISOString(),
        },
        accountName: 'local',
        queue: { id: queueId, countryCode: code, genesisHash: GENESIS_HASH, totalizers: newTotalizers() },
        key: { queueId, algorithm: QUEUE_KEY_ALGORITHM, publicKey, privateKeyEncrypted: stored },
      })
    } catch (error) {
      // Not stored (e.g. another request created this id first): a key in a token would stay behind.
      this.keys.discard(stored)
      throw error
    }
    return { cashboxId, accessToken: token, queueId, accountId, country, publicKey }
  }

  list(): Promise<CashboxRecord[]> {
    return this.store.list()
  }

  find(cashboxId: string): Promise<CashboxRecord | undefined> {
    return this.store.find(cashboxId)
  }

  /**
   * Resolves the credentials of a request; any mismatch is the same 401 so ids cannot be probed, and costs
   * the same: only a success is answered from memory. A failed check always hashes the token once, compares
   * it twice and reads the store, whether the id is unknown, or known (cached or not) with a wrong token.
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
    const presented = hashToken(token)
    const cached = this.cache.get(cashboxId)
    if (hashesMatch(presented, cached?.accessTokenHash ?? NO_TOKEN_HASH) && cached) return cached
    // Not an id at all: no read, but a known id always has this form, so this tells nothing about ids.
    const cashbox = ID_FORM.test(cashboxId) ? await this.store.find(cashboxId.toLowerCase()) : undefined
    if (!hashesMatch(presented, cashbox?.accessTokenHash ?? NO_TOKEN_HASH) || !cashbox) throw denied()
    this.cache.set(cashboxId, cashbox)
    return cashbox
  }

  /** The queue's public key, without opening its private key (which may be in a token this process has not). */
  async publicKey(queueId: string): Promise<{ algorithm: string; publicKey: string }> {
    const { algorithm, publicKey } = await this.keyRecord(queueId)
    return { algorithm, publicKey }
  }

  async signer(queueId: string): Promise<QueueSigner> {
    const cached = this.signers.get(queueId)
    if (cached) return cached
    const record = await this.keyRecord(queueId)
    const key = this.keys.open(record.privateKeyEncrypted, 'P-256')
    const signer: QueueSigner = {
      algorithm: record.algorithm,
      publicKey: record.publicKey,
      sign: (data) => key.sign(Buffer.from(data, 'utf8')),
    }
    this.signers.set(queueId, signer)
    return signer
  }

  private async keyRecord(queueId: string) {
    const record = await this.store.signingKey(queueId)
    if (!record) throw new FiscalError(ErrorCode.Internal, `queue ${queueId} has no signing key`)
    return record
  }
}

/** The public key of a queue as a KeyObject, for verifiers. */
export const publicKeyFromSpki = (spkiBase64: string) =>
  createPublicKey({ key: Buffer.from(spkiBase64, 'base64'), format: 'der', type: 'spki' })
