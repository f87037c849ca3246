import { createHash, createPublicKey, type KeyObject, verify, X509Certificate } from 'node:crypto'
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithm } from '../tss-export/algorithms.ts'

/**
 * Rebuilds the bytes a TSE signed for the FinishTransaction log of a DSFinV-K TSE transaction
 * (BSI TR-03151 log message, version 2: the TLVs from version through logTime) from the columns of
 * transactions_tse.csv, the cash point's Z_KASSE_ID (the TSE's clientId) and tse.csv, and checks the
 * signature. Only logs with unixTime can be rebuilt: for utcTime/generalizedTime the CSV's millisecond
 * time does not say which encoding the TSE used.
 */

export interface TseKey {
  serial: string
  algorithm: SignatureAlgorithm
  /** The uncompressed point 04||X||Y of TSE_PUBLIC_KEY. */
  point: Buffer
  key: KeyObject
  timeFormat: string
}

export interface FinishLog {
  clientId: string
  processData: string
  processType: string
  transactionNumber: bigint
  signatureCounter: bigint
  /** TSE_TA_ENDE, UTC with milliseconds. */
  end: string
}

const TRANSACTION_LOG_OID = '0.4.0.127.0.7.3.7.1.1'
const JWK_CURVES: Record<number, string> = { 65: 'P-256', 97: 'P-384', 133: 'P-521' }

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}
const tlv = (tag: number, content: Buffer) =>
  Buffer.concat([Buffer.from([tag]), length(content.length), content])

function derInteger(value: bigint): Buffer {
  let hex = value.toString(16)
  if (hex.length % 2) hex = `0${hex}`
  const bytes = Buffer.from(hex, 'hex')
  return (bytes[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes
}

function derOid(oid: string): Buffer {
  const [first, second, ...rest] = oid.split('.').map(Number) as number[]
  const out = [40 * (first as number) + (second as number)]
  for (const arc of rest) {
    const groups = [arc & 0x7f]
    for (let v = arc >>> 7; v > 0; v >>>= 7) groups.unshift((v & 0x7f) | 0x80)
    out.push(...groups)
  }
  return Buffer.from(out)
}

/** tse.csv's key: the certificate's key when TSE_ZERTIFIKAT_* hold one (it names the curve), else by length. */
export function tseKey(row: Map<string, string>): TseKey | string {
  const algorithm = [...SIGNATURE_ALGORITHMS.values()].find((a) => a.name === row.get('TSE_SIG_ALGO'))
  if (!algorithm) return `TSE_SIG_ALGO "${row.get('TSE_SIG_ALGO')}" is no TR-03151 signature algorithm`
  const point = Buffer.from(row.get('TSE_PUBLIC_KEY') ?? '', 'base64')
  if (point[0] !== 0x04) return 'TSE_PUBLIC_KEY is not an uncompressed EC point in base64'
  const certificate = ['I', 'II', 'III', 'IV', 'V', 'VI', 'VII']
    .map((n) => row.get(`TSE_ZERTIFIKAT_${n}`) ?? '')
    .join('')
  let key: KeyObject
  if (certificate) {
    try {
      key = new X509Certificate(Buffer.from(certificate, 'base64')).publicKey
    } catch {
      return 'TSE_ZERTIFIKAT_I.._VII hold no X.509 certificate in base64'
    }
    const jwk = key.export({ format: 'jwk' })
    const certified = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x ?? '', 'base64url'),
      Buffer.from(jwk.y ?? '', 'base64url'),
    ])
    if (!certified.equals(point))
      return 'TSE_PUBLIC_KEY is not the key of the certificate in TSE_ZERTIFIKAT_*'
  } else {
    const crv = JWK_CURVES[point.length]
    if (!crv) return `TSE_PUBLIC_KEY of ${point.length} bytes and no certificate: curve unknown`
    const half = (point.length - 1) / 2
    key = createPublicKey({
      key: {
        kty: 'EC',
        crv,
        x: point.subarray(1, 1 + half).toString('base64url'),
        y: point.subarray(1 + half).toString('base64url'),
      },
      format: 'jwk',
    })
  }
  return {
    serial: row.get('TSE_SERIAL') ?? '',
    algorithm,
    point,
    key,
    timeFormat: row.get('TSE_ZEITFORMAT') ?? '',
  }
}

/** The signed bytes of the Finish log; the TSE's serial number is the SHA-256 of its public key. */
export function finishLogSignedBytes(tse: TseKey, log: FinishLog): Buffer {
  return Buffer.concat([
    tlv(0x02, derInteger(2n)),
    tlv(0x06, derOid(TRANSACTION_LOG_OID)),
    tlv(0x80, Buffer.from('FinishTransaction')),
    tlv(0x81, Buffer.from(log.clientId)),
    tlv(0x82, Buffer.from(log.processData)),
    tlv(0x83, Buffer.from(log.processType)),
    tlv(0x85, derInteger(log.transactionNumber)),
    tlv(0x04, createHash('sha256').update(tse.point).digest()),
    tlv(0x30, tlv(0x06, derOid(tse.algorithm.oid))),
    tlv(0x02, derInteger(log.signatureCounter)),
    tlv(0x02, derInteger(BigInt(Math.floor(Date.parse(log.end) / 1000)))),
  ])
}

/** true/false for ECDSA with unixTime; a reason when the signature cannot be checked from the tables. */
export function checkFinishSignature(tse: TseKey, log: FinishLog, signature: Buffer): boolean | string {
  if (tse.timeFormat !== 'unixTime')
    return `TSE_ZEITFORMAT "${tse.timeFormat}": signed log time not rebuildable`
  if (tse.algorithm.scheme !== 'ecdsa') return `${tse.algorithm.name}: only ECDSA signatures are checked`
  return verify(
    tse.algorithm.hash,
    finishLogSignedBytes(tse, log),
    { key: tse.key, dsaEncoding: 'ieee-p1363' },
    signature,
  )
}
