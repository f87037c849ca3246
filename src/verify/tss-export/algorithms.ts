/**
 * Signature algorithms of TR-03151 log messages (BSI TR-03111 object identifiers under
 * bsi-de algorithms(1) id-ecc(1) signatures(4)): ecdsa-plain-signatures(1) and ecsdsa-plain-signatures(4),
 * plain r||s encoding. Hash names are node:crypto's.
 */
export interface SignatureAlgorithm {
  oid: string
  scheme: 'ecdsa' | 'ecsdsa'
  hash: 'sha256' | 'sha384' | 'sha512' | 'sha3-256' | 'sha3-384' | 'sha3-512'
  name: string
}

const ECC = '0.4.0.127.0.7.1.1.4'
const table: [string, SignatureAlgorithm['scheme'], SignatureAlgorithm['hash']][] = [
  [`${ECC}.1.3`, 'ecdsa', 'sha256'],
  [`${ECC}.1.4`, 'ecdsa', 'sha384'],
  [`${ECC}.1.5`, 'ecdsa', 'sha512'],
  [`${ECC}.1.9`, 'ecdsa', 'sha3-256'],
  [`${ECC}.1.10`, 'ecdsa', 'sha3-384'],
  [`${ECC}.1.11`, 'ecdsa', 'sha3-512'],
  [`${ECC}.4.2`, 'ecsdsa', 'sha256'],
  [`${ECC}.4.3`, 'ecsdsa', 'sha384'],
  [`${ECC}.4.4`, 'ecsdsa', 'sha512'],
  [`${ECC}.4.6`, 'ecsdsa', 'sha3-256'],
  [`${ECC}.4.7`, 'ecsdsa', 'sha3-384'],
  [`${ECC}.4.8`, 'ecsdsa', 'sha3-512'],
]

export const SIGNATURE_ALGORITHMS: ReadonlyMap<string, SignatureAlgorithm> = new Map(
  table.map(([oid, scheme, hash]) => [
    oid,
    { oid, scheme, hash, name: `${scheme}-plain-${hash.toUpperCase()}` },
  ]),
)
