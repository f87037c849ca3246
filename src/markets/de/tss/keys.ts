import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import type { MasterKey } from '../../../core/secrets.ts'
import { TSS_ALGORITHMS, type TssAlgorithm } from './algorithms.ts'

export interface SealedTssKey {
  algorithm: TssAlgorithm
  /** The uncompressed EC point 04||X||Y, as TR-03151 and the SIGN DE API publish it. */
  publicPoint: Buffer
  /** SPKI DER of the same key, for certificates. */
  publicKeySpki: Buffer
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

export function newSealedTssKey(algorithm: TssAlgorithm, master: MasterKey): SealedTssKey {
  const spec = TSS_ALGORITHMS[algorithm]
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: spec.curve })
  const publicPoint = uncompressedPoint(publicKey, spec.size)
  return {
    algorithm,
    publicPoint,
    publicKeySpki: publicKey.export({ type: 'spki', format: 'der' }),
    privateKeyEncrypted: master.encrypt(privateKey.export({ type: 'pkcs8', format: 'der' })),
    serialNumber: serialNumberOf(publicPoint),
  }
}

/** Signs TR-03151 messages with plain r||s (BSI TR-03111), not the DER-wrapped ECDSA-Sig-Value. */
export interface TssSigner {
  readonly algorithm: TssAlgorithm
  sign(data: Buffer): Buffer
}

export function openTssSigner(
  algorithm: TssAlgorithm,
  privateKeyEncrypted: string,
  master: MasterKey,
): TssSigner {
  const key = createPrivateKey({ key: master.decrypt(privateKeyEncrypted), format: 'der', type: 'pkcs8' })
  const { hash } = TSS_ALGORITHMS[algorithm]
  return {
    algorithm,
    sign: (data) => sign(hash, data, { key, dsaEncoding: 'ieee-p1363' }),
  }
}
