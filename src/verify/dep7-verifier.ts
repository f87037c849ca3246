import {
  createCipheriv,
  createHash,
  createPublicKey,
  type KeyObject,
  verify as ecdsaVerify,
  X509Certificate,
} from 'node:crypto'

/**
 * An RKSV verifier for DEP7 exports (Datenerfassungsprotokoll), written from the RKSV
 * Detailspezifikation and docs/country-at.md, not from the producer's code (src/markets/at), so that a
 * bug on the signing side cannot hide itself. It checks every JWS, the chain, the turnover counter
 * (decrypted with the AES key of the cryptographic material container), the dates, the Belegnummern and
 * the rules for failed signature devices, and names the receipt of every problem.
 */

export interface CryptographicMaterialContainer {
  base64AESKey?: string
  certificateOrPublicKeyMap?: Record<
    string,
    { id?: string; signatureDeviceType?: string; signatureCertificateOrPublicKey?: string }
  >
}

export interface Dep7Report {
  format: 'dep7'
  receipts: number
  groups: number
  failedDeviceReceipts: number
  trainingReceipts: number
  stornoReceipts: number
  /** The turnover counter after the last receipt, in cents (null when no AES key was given). */
  turnoverCents: string | null
  problems: string[]
}

const HEADER = '{"alg":"ES256"}'
const FAILED = 'Sicherheitseinrichtung ausgefallen'
const TRA = Buffer.from('TRA').toString('base64')
const STO = Buffer.from('STO').toString('base64')
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/
const AMOUNT = /^(-?)(\d+),(\d\d)$/
const MAX_PROBLEMS = 1000

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest()

/** Decrypts an AES-256-ICM turnover counter: N ciphertext bytes -> signed big-endian cents. */
export function decryptTurnover(
  aesKey: Buffer,
  cashboxId: string,
  receiptId: string,
  base64: string,
): bigint {
  const data = Buffer.from(base64, 'base64')
  if (data.length < 5 || data.length > 16)
    throw new Error(`turnover counter has ${data.length} bytes (5..16 allowed)`)
  const iv = digest(cashboxId + receiptId).subarray(0, 16)
  const decipher = createDecipherCtr(aesKey, iv)
  const padded = Buffer.alloc(16)
  data.copy(padded)
  const plain = decipher.update(padded).subarray(0, data.length)
  let value = 0n
  for (const byte of plain) value = (value << 8n) | BigInt(byte)
  const bits = BigInt(data.length * 8)
  return value >= 1n << (bits - 1n) ? value - (1n << bits) : value
}

// CTR decryption is the same operation as encryption.
const createDecipherCtr = (key: Buffer, iv: Buffer) => createCipheriv('aes-256-ctr', key, iv)

function strictBase64url(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64url')
  return bytes.toString('base64url') === text ? bytes : undefined
}

function amountCents(text: string): bigint | undefined {
  const m = AMOUNT.exec(text)
  if (!m) return undefined
  const value = BigInt(`${m[2]}${m[3]}`)
  return m[1] ? -value : value
}

interface Group {
  key?: KeyObject
  serial?: string
}

export class Dep7Verifier {
  private readonly report: Dep7Report = {
    format: 'dep7',
    receipts: 0,
    groups: 0,
    failedDeviceReceipts: 0,
    trainingReceipts: 0,
    stornoReceipts: 0,
    turnoverCents: null,
    problems: [],
  }
  private readonly aesKey: Buffer | undefined
  private readonly keys = new Map<string, KeyObject>()
  private kassenId: string | undefined
  private previousJws: string | undefined
  private previousDate = ''
  private turnover = 0n
  private readonly receiptIds = new Set<string>()
  /** Signed receipts since the last failed-device receipt that no Sammelbeleg has closed; null: none open. */
  private signedSinceFailure: number | null = null

  constructor(material: CryptographicMaterialContainer | undefined) {
    if (material?.base64AESKey !== undefined) {
      const key = Buffer.from(material.base64AESKey, 'base64')
      if (key.length === 32) this.aesKey = key
      else this.problem('key file: base64AESKey is not a 32-byte key')
    }
    for (const [id, entry] of Object.entries(material?.certificateOrPublicKeyMap ?? {})) {
      try {
        const der = Buffer.from(entry.signatureCertificateOrPublicKey ?? '', 'base64')
        this.keys.set(
          id,
          entry.signatureDeviceType === 'CERTIFICATE'
            ? new X509Certificate(der).publicKey
            : createPublicKey({ key: der, format: 'der', type: 'spki' }),
        )
      } catch {
        this.problem(
          `key file: the key of ${id} is not a ${entry.signatureDeviceType === 'CERTIFICATE' ? 'DER certificate' : 'DER public key'}`,
        )
      }
    }
  }

  verify(dep: unknown): Dep7Report {
    const groups = (dep as { 'Belege-Gruppe'?: unknown })?.['Belege-Gruppe']
    if (!Array.isArray(groups)) {
      this.problem('not a DEP7 export: no "Belege-Gruppe" array')
      return this.report
    }
    if (!this.aesKey)
      this.problem('no AES key: the turnover counter cannot be checked (give the key file with --keys)')
    for (const [g, value] of groups.entries()) {
      this.report.groups += 1
      const group = this.readGroup(value, g + 1)
      const receipts = (value as { 'Belege-kompakt'?: unknown })?.['Belege-kompakt']
      if (!Array.isArray(receipts)) {
        this.problem(`group ${g + 1}: no "Belege-kompakt" array`)
        continue
      }
      for (const jws of receipts) this.receipt(jws, group)
    }
    if (this.report.receipts === 0) this.problem('the export holds no receipts')
    if (this.aesKey) this.report.turnoverCents = this.turnover.toString()
    return this.report
  }

  private readGroup(value: unknown, n: number): Group {
    const certificate = (value as { Signaturzertifikat?: unknown })?.Signaturzertifikat
    if (typeof certificate !== 'string') {
      this.problem(`group ${n}: "Signaturzertifikat" must be a string (empty for closed systems)`)
      return {}
    }
    if (certificate === '') return {}
    try {
      const parsed = new X509Certificate(Buffer.from(certificate, 'base64'))
      return { key: parsed.publicKey, serial: parsed.serialNumber.toLowerCase().replace(/^0+(?=.)/, '') }
    } catch {
      this.problem(`group ${n}: "Signaturzertifikat" is not a base64 DER certificate`)
      return {}
    }
  }

  private receipt(jws: unknown, group: Group): void {
    const n = ++this.report.receipts
    let at = `receipt ${n}`
    if (typeof jws !== 'string') {
      this.problem(`${at}: not a JWS string`)
      return
    }
    const parts = jws.split('.')
    const header = strictBase64url(parts[0] ?? '')
    const payloadBytes = strictBase64url(parts[1] ?? '')
    const signature = strictBase64url(parts[2] ?? '')
    if (parts.length !== 3 || !header || !payloadBytes || !signature) {
      this.problem(`${at}: not a JWS in compact serialization (three base64url parts)`)
      this.previousJws = jws
      return
    }
    if (header.toString('utf8') !== HEADER) this.problem(`${at}: JWS header is not ${HEADER}`)
    const payload = payloadBytes.toString('utf8')
    const f = payload.split('_')
    if (f.length !== 13 || f[0] !== '' || !/^R1-AT\d+$/.test(f[1] ?? '')) {
      this.problem(`${at}: payload is not an R1 machine-readable code (_R1-AT{n}_ and 12 fields)`)
      this.previousJws = jws
      return
    }
    const [, provider, kassenId, receiptId, date, ...rest] = f as [
      string,
      string,
      string,
      string,
      string,
      ...string[],
    ]
    const [normal, reduced1, reduced2, zero, special, turnoverField, certificateField, chain] = rest as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ]
    at = `receipt ${n} (Belegnummer ${receiptId})`
    if (this.kassenId === undefined) this.kassenId = kassenId
    else if (kassenId !== this.kassenId)
      this.problem(`${at}: Kassen-ID ${kassenId} differs from ${this.kassenId}`)
    if (this.receiptIds.has(receiptId)) this.problem(`${at}: Belegnummer used twice`)
    this.receiptIds.add(receiptId)
    if (!DATE.test(date)) this.problem(`${at}: date ${date} is not yyyy-MM-ddTHH:mm:ss`)
    else if (date < this.previousDate)
      this.problem(`${at}: date ${date} is earlier than the previous receipt's ${this.previousDate}`)
    else this.previousDate = date
    const amounts = [normal, reduced1, reduced2, zero, special].map((text, i) => {
      const cents = amountCents(text)
      if (cents === undefined)
        this.problem(
          `${at}: amount ${i + 1} "${text}" is not in the form 0,00 (decimal comma, no thousands separator)`,
        )
      return cents ?? 0n
    })
    const sum = amounts.reduce((s, a) => s + a, 0n)
    const allZero = amounts.every((a) => a === 0n)

    const expectedChain = digest(this.previousJws ?? kassenId)
      .subarray(0, 8)
      .toString('base64')
    if (chain !== expectedChain) {
      this.problem(
        `${at}: chain value ${chain} does not match ${this.previousJws ? 'the previous receipt' : 'the Kassen-ID (first receipt)'}`,
      )
    }

    const failed = signature.toString('utf8') === FAILED
    if (failed) this.report.failedDeviceReceipts += 1
    else this.checkSignature(at, provider, certificateField, group, parts, signature)
    if (failed && !group.key && !this.keys.has(certificateField) && this.keys.size > 0) {
      this.problem(`${at}: names signature device ${certificateField}, which the key file does not know`)
    }

    const kind = turnoverField === TRA ? 'training' : turnoverField === STO ? 'storno' : 'counted'
    if (kind === 'training') this.report.trainingReceipts += 1
    else {
      if (kind === 'storno') this.report.stornoReceipts += 1
      this.turnover += sum
    }
    if (kind === 'counted' && this.aesKey) {
      try {
        const value = decryptTurnover(this.aesKey, kassenId, receiptId, turnoverField)
        if (value !== this.turnover) {
          this.problem(
            `${at}: turnover counter decrypts to ${value} cents, but the receipts add up to ${this.turnover}`,
          )
          this.turnover = value
        }
      } catch (error) {
        this.problem(`${at}: turnover counter: ${(error as Error).message}`)
      }
    }

    if (n === 1 && (failed || !allZero || kind !== 'counted')) {
      this.problem(
        `${at}: the first receipt must be a signed Startbeleg with zero amounts and a real turnover counter`,
      )
    }
    this.checkSammelbeleg(at, failed, allZero && kind === 'counted')
    this.previousJws = jws
  }

  /**
   * A signature device outage ends with a Sammelbeleg, a signed zero receipt: right after the last failed
   * receipt or after the first receipt signed again (Erlass 3.6.1; A-SIT's Prüftool accepts both since
   * 1.0.0). A Monatsbeleg or Schlussbeleg may itself be failed, so a failed zero receipt closes nothing.
   */
  private checkSammelbeleg(at: string, failed: boolean, signedZero: boolean): void {
    if (failed) {
      this.signedSinceFailure = 0
      return
    }
    if (this.signedSinceFailure === null) return
    if (signedZero) {
      this.signedSinceFailure = null
      return
    }
    this.signedSinceFailure += 1
    if (this.signedSinceFailure >= 2) {
      this.problem(
        `${at}: no Sammelbeleg (a signed zero receipt) as the first or second signed receipt after the failed signature device`,
      )
      this.signedSinceFailure = null
    }
  }

  private checkSignature(
    at: string,
    provider: string,
    certificateField: string,
    group: Group,
    parts: string[],
    signature: Buffer,
  ): void {
    let key: KeyObject | undefined
    if (group.key) {
      if (provider === 'R1-AT0')
        this.problem(`${at}: a closed-system receipt (AT0) in a group with a certificate`)
      if (certificateField !== group.serial) {
        this.problem(
          `${at}: certificate serial ${certificateField} is not the group certificate's ${group.serial}`,
        )
      }
      key = group.key
    } else key = this.keys.get(certificateField)
    if (!key) {
      this.problem(
        `${at}: no public key or certificate for ${certificateField} (give the key file with --keys)`,
      )
      return
    }
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii')
    if (
      signature.length !== 64 ||
      !ecdsaVerify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, signature)
    ) {
      this.problem(`${at}: ES256 signature does not verify with ${certificateField}`)
    }
  }

  private problem(text: string): void {
    if (this.report.problems.length < MAX_PROBLEMS) this.report.problems.push(text)
  }
}

export const verifyDep7 = (dep: unknown, material?: CryptographicMaterialContainer): Dep7Report =>
  new Dep7Verifier(material).verify(dep)
