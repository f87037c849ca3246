import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto'

/** Access tokens: 32 random bytes, shown once, kept only as their SHA-256. */
export function newAccessToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashToken(token) }
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex')

/** Compares a presented token with a stored hash in constant time. */
export const tokenMatches = (presented: string, storedHash: string): boolean =>
  hashesMatch(hashToken(presented), storedHash)

/** Compares two token hashes (hex) in constant time: for a check that compares one hash twice. */
export function hashesMatch(presentedHash: string, storedHash: string): boolean {
  const a = Buffer.from(presentedHash, 'hex')
  const b = Buffer.from(storedHash, 'hex')
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * The master key encrypts every private key at rest (AES-256-GCM). Its check value, stored beside the data,
 * lets the server refuse to start with a wrong key instead of failing on the first receipt.
 */
export class MasterKey {
  private constructor(private readonly key: Buffer) {}

  static fromText(text: string): MasterKey {
    const trimmed = text.trim()
    const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
      ? Buffer.from(trimmed, 'hex')
      : Buffer.from(trimmed, 'base64')
    if (key.length !== 32) {
      throw new Error(
        'FISCALBOX_MASTER_KEY must be 32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)',
      )
    }
    return new MasterKey(key)
  }

  static generate(): { key: MasterKey; text: string } {
    const key = randomBytes(32)
    return { key: new MasterKey(key), text: key.toString('hex') }
  }

  checkValue(): string {
    return createHmac('sha256', this.key).update('fiscalbox master key check v1').digest('hex')
  }

  encrypt(plaintext: Buffer): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
    return [
      'v1',
      iv.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      body.toString('base64'),
    ].join('.')
  }

  decrypt(sealed: string): Buffer {
    const [version, iv, tag, body] = sealed.split('.')
    if (version !== 'v1' || !iv || !tag || !body) throw new Error('unknown encrypted key format')
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'))
    decipher.setAuthTag(Buffer.from(tag, 'base64'))
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()])
  }
}

export interface SealedKeyPair {
  algorithm: string
  publicKey: string
  privateKeyEncrypted: string
}

/** A new P-256 key pair: the public key as base64 SPKI DER, the private key as PKCS#8 sealed by the master key. */
export function newSealedP256(master: MasterKey): SealedKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return {
    algorithm: 'ECDSA-P256-SHA256',
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    privateKeyEncrypted: master.encrypt(privateKey.export({ type: 'pkcs8', format: 'der' })),
  }
}

export type { KeyObject }
