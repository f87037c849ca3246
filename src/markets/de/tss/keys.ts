import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import type { SigningKey, SigningKeys } from '../../../core/signing-keys.ts'
import { TSS_ALGORITHMS, type TssAlgorithm } from './algorithms.ts'

export interface SealedTssKey {
  algorithm: TssAlgorithm
  /** The uncompressed EC point 04||X||Y, as TR-03151 and the SIGN DE API publish it. */
  publicPoint: Buffer
  /** SPKI DER of the same key, for certificates. */
  publicKeySpki: Buffer
  /** Sealed by the master key, or the reference of the key in the PKCS#11 token (core/signing-keys.ts). */
  privateKeyEncrypted: string
  /** SHA-256 of the uncompressed public point: the TSS serial number of TR-03151. */
  serialNumber: Buffer
}

export const serialNumberOf = (publicPoint: Buffer): Buffer =>
  createHash('sha256').update(publicPoint).digest()

/** The uncompressed point of an EC public key, read from its JWK (no DER walking needed). */
export function uncompressedPoint(key: KeyObject, size: number): Buffer {
  const jwk = key.export({ format: 'jwk' })
  const coordinate = (value: string | undefined) => {
    const raw = Buffer.from(value ?? '', 'base64url')
    return Buffer.concat([Buffer.alloc(size - raw.length), raw])
  }
  return Buffer.concat([Buffer.from([0x04]), coordinate(jwk.x), coordinate(jwk.y)])
}

export function newSealedTssKey(algorithm: TssAlgorithm, keys: SigningKeys, label: string): SealedTssKey {
  const spec = TSS_ALGORITHMS[algorithm]
  const { key, stored } = keys.generate(spec.curve, label)
  const publicPoint = uncompressedPoint(
    createPublicKey({ key: key.publicKey, format: 'der', type: 'spki' }),
    spec.size,
  )
  return {
    algorithm,
    publicPoint,
    publicKeySpki: key.publicKey,
    privateKeyEncrypted: stored,
    serialNumber: serialNumberOf(publicPoint),
  }
}

/**
 * Signs TR-03151 messages with plain r||s (BSI TR-03111), not the DER-wrapped ECDSA-Sig-Value: what every
 * SigningKey gives, over the algorithm's hash (its curve's).
 */
export interface TssSigner {
  readonly algorithm: TssAlgorithm
  sign(data: Buffer): Buffer
}

export function openTssSigner(algorithm: TssAlgorithm, stored: string, keys: SigningKeys): TssSigner {
  const key: SigningKey = keys.open(stored, TSS_ALGORITHMS[algorithm].curve)
  return { algorithm, sign: (data) => key.sign(data) }
}
