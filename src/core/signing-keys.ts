import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import type { MasterKey } from './secrets.ts'

/** The curves fiscalbox signs with; each is used with its own hash (P-256 with SHA-256, P-384 with SHA-384). */
export type KeyCurve = 'P-256' | 'P-384'

export const CURVE_HASH = { 'P-256': 'sha256', 'P-384': 'sha384' } as const satisfies Record<KeyCurve, string>

/**
 * A private key fiscalbox signs with, wherever it lives. Signatures are ECDSA over the curve's hash of the
 * data, as plain r||s (IEEE P1363): what the generic market, the TSS (TR-03111) and JWS ES256 publish; an
 * X.509 signer turns it into the DER ECDSA-Sig-Value itself.
 */
export interface SigningKey {
  readonly curve: KeyCurve
  /** SubjectPublicKeyInfo DER. */
  readonly publicKey: Buffer
  sign(data: Buffer): Buffer
}

/**
 * A hardware token that makes keys and signs with them without ever handing them out (src/hsm/). Its keys
 * are found again by the id it gave them.
 */
export interface KeyToken {
  /** For messages: the token and where it is, never its PIN. */
  readonly description: string
  generate(curve: KeyCurve, label: string): { id: string; key: SigningKey }
  open(id: string, curve: KeyCurve): SigningKey
  destroy(id: string): void
}

/** A new key and what to keep of it: its private part sealed by the master key, or the token's reference. */
export interface NewKey {
  key: SigningKey
  stored: string
}

/** How a stored key names a token object instead of holding the key sealed by the master key. */
const TOKEN_REFERENCE = 'pkcs11:id='

/**
 * Where the private keys of queues, TSSs and signature devices are made and kept. Without a token they are
 * PKCS#8 sealed by the master key; with one (FISCALBOX_PKCS11_MODULE) new keys are made in the token and
 * only a reference is stored. A key is opened from what was stored, so the keys made before a token was
 * configured keep signing.
 */
export class SigningKeys {
  constructor(
    private readonly master: MasterKey,
    private readonly token?: KeyToken,
  ) {}

  /** Where new keys go, for the start-up banner. */
  get location(): string {
    return this.token ? this.token.description : 'sealed by the master key'
  }

  generate(curve: KeyCurve, label: string): NewKey {
    if (this.token) {
      const { id, key } = this.token.generate(curve, label)
      return { key, stored: TOKEN_REFERENCE + id }
    }
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: curve })
    return {
      key: softwareKey(curve, privateKey),
      stored: this.master.encrypt(privateKey.export({ type: 'pkcs8', format: 'der' })),
    }
  }

  /** A key the operator brings (e.g. a trust provider's): kept sealed by the master key. */
  seal(privateKey: KeyObject): NewKey {
    const curve = curveOf(privateKey)
    return {
      key: softwareKey(curve, privateKey),
      stored: this.master.encrypt(privateKey.export({ type: 'pkcs8', format: 'der' })),
    }
  }

  /**
   * Forgets new keys whose record was not stored after all (refused input, a creation that lost a race):
   * the token deletes its objects; a sealed key was never anywhere but in the record.
   */
  discard(...stored: string[]): void {
    for (const one of stored) {
      if (this.token && one.startsWith(TOKEN_REFERENCE)) this.token.destroy(one.slice(TOKEN_REFERENCE.length))
    }
  }

  open(stored: string, curve: KeyCurve): SigningKey {
    if (stored.startsWith(TOKEN_REFERENCE)) {
      if (!this.token) {
        throw new Error(
          'this key is in a PKCS#11 token, but none is configured: set FISCALBOX_PKCS11_MODULE and the token settings (docs/hsm.md)',
        )
      }
      return this.token.open(stored.slice(TOKEN_REFERENCE.length), curve)
    }
    const privateKey = createPrivateKey({ key: this.master.decrypt(stored), format: 'der', type: 'pkcs8' })
    return softwareKey(curve, privateKey)
  }
}

function curveOf(key: KeyObject): KeyCurve {
  const named = key.asymmetricKeyDetails?.namedCurve
  if (named === 'prime256v1') return 'P-256'
  if (named === 'secp384r1') return 'P-384'
  throw new Error(`unsupported key: ${key.asymmetricKeyType} ${named ?? ''}`.trim())
}

/** A key in this process's memory, as a KeyObject: made once per key and cached by its users. */
function softwareKey(curve: KeyCurve, privateKey: KeyObject): SigningKey {
  return {
    curve,
    publicKey: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
    sign: (data) => sign(CURVE_HASH[curve], data, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
  }
}
