import 'reflect-metadata'
import { createPrivateKey, createPublicKey, type KeyObject, webcrypto, X509Certificate } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import * as pkijs from 'pkijs'
import { ErrorCode, FiscalError } from '../errors.ts'

/**
 * A merchant's certificate as it arrives: a PKCS#12 file with its password, or a PEM private key with its
 * certificate chain. This module reads it (pkijs for PKCS#12, node:crypto for PEM and DER) and checks that
 * it can be used: the key matches a certificate, the chain links, every certificate is valid now, and the
 * certificate allows the uses asked for. Each refusal names its problem, so that a merchant knows what to fix.
 */

export type CertificateProblem =
  | 'unreadable'
  | 'wrong_password'
  | 'unsupported_encryption'
  | 'key_mismatch'
  | 'broken_chain'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_key_usage'

/** What fiscalbox does with a certificate: authenticate to an authority (mutual TLS), or sign documents. */
export type CertificateUse = 'tls_client' | 'signing'
export const CERTIFICATE_USES: readonly CertificateUse[] = ['tls_client', 'signing']

export type CertificateInput =
  | { format: 'pkcs12'; data: Buffer; password: string }
  /** PEM text holding the private key (PKCS#8 or PKCS#1, optionally encrypted) and the certificates. */
  | { format: 'pem'; pem: string; password?: string }

export interface CheckedBundle {
  key: KeyObject
  /** The certificate of the key. */
  leaf: X509Certificate
  /** The issuers of the leaf that came with it, nearest first (each one signed the one before). */
  chain: X509Certificate[]
}

export function refused(problem: CertificateProblem, field: string, reason: string): FiscalError {
  return new FiscalError(ErrorCode.CertificateRefused, `${field}: ${reason}`, { field, reason }, { problem })
}

const OID = {
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  encryptedData: '1.2.840.113549.1.7.6',
  pbes2: '1.2.840.113549.1.5.13',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const

let engineSet = false
function pkijsEngine(): void {
  if (engineSet) return
  pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto }))
  engineSet = true
}

const arrayBufferOf = (data: Uint8Array): ArrayBuffer =>
  data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer

/** The private key and every certificate of a PKCS#12 file, after its integrity (MAC) was checked. */
async function readPkcs12(
  data: Buffer,
  password: string,
): Promise<{ key: KeyObject; certificates: X509Certificate[] }> {
  pkijsEngine()
  let pfx: pkijs.PFX
  try {
    pfx = pkijs.PFX.fromBER(arrayBufferOf(data))
  } catch {
    throw refused('unreadable', 'pkcs12', 'is not a PKCS#12 (.p12 / .pfx) file')
  }
  const secret = arrayBufferOf(new TextEncoder().encode(password))
  checkIterations(pfx.macData?.iterations ?? 1)
  try {
    await pfx.parseInternalValues({ password: secret, checkIntegrity: true })
  } catch (error) {
    throw pkcs12Failure(error)
  }
  const safe = pfx.parsedValue?.authenticatedSafe
  if (!safe) throw refused('unreadable', 'pkcs12', 'holds no authenticated safe (no key or certificate)')
  for (const content of safe.safeContents) {
    if (content.contentType !== OID.encryptedData) continue
    checkPbes2(
      copyOf<pkijs.EncryptedData>(pkijs.EncryptedData, content.content).encryptedContentInfo
        .contentEncryptionAlgorithm,
    )
  }
  try {
    await safe.parseInternalValues({ safeContents: safe.safeContents.map(() => ({ password: secret })) })
  } catch (error) {
    throw pkcs12Failure(error)
  }
  const keys: KeyObject[] = []
  const certificates: X509Certificate[] = []
  for (const contents of safe.parsedValue?.safeContents ?? []) {
    for (const bag of contents.value.safeBags) {
      if (bag.bagId === OID.shroudedKeyBag) {
        const shrouded = bag.bagValue as pkijs.PKCS8ShroudedKeyBag
        checkPbes2(shrouded.encryptionAlgorithm)
        try {
          // pkijs' own PKCS#12 example decrypts a shrouded key bag this way; its typings mark it protected.
          await (shrouded as unknown as Decryptable).parseInternalValues({ password: secret })
        } catch (error) {
          throw pkcs12Failure(error)
        }
        if (shrouded.parsedValue) keys.push(derKey(shrouded.parsedValue.toSchema().toBER()))
      } else if (bag.bagId === OID.keyBag) {
        keys.push(derKey((bag.bagValue as pkijs.PrivateKeyInfo).toSchema().toBER()))
      } else if (bag.bagId === OID.certBag) {
        const certBag = bag.bagValue as pkijs.CertBag
        if (certBag.certId !== OID.x509Certificate) continue
        const der = (certBag.parsedValue as pkijs.Certificate).toSchema().toBER()
        certificates.push(new X509Certificate(Buffer.from(der)))
      }
    }
  }
  if (keys.length !== 1)
    throw refused('unreadable', 'pkcs12', `must hold exactly one private key, it holds ${keys.length}`)
  return { key: keys[0] as KeyObject, certificates }
}

/**
 * The file chooses how many rounds its key derivation takes (OpenSSL writes 2048): a file asking for far
 * more would hold a CPU for as long as it likes, so it is refused before the work.
 */
const MAX_ITERATIONS = 1_000_000

function checkIterations(iterations: number): void {
  if (iterations > MAX_ITERATIONS)
    throw refused(
      'unsupported_encryption',
      'pkcs12',
      `asks for ${iterations} key derivation rounds (at most ${MAX_ITERATIONS})`,
    )
}

function checkPbes2(algorithm: pkijs.AlgorithmIdentifier): void {
  if (algorithm.algorithmId !== OID.pbes2) return
  const pbes2 = copyOf<pkijs.PBES2Params>(pkijs.PBES2Params, algorithm.algorithmParams)
  checkIterations(
    copyOf<pkijs.PBKDF2Params>(pkijs.PBKDF2Params, pbes2.keyDerivationFunc.algorithmParams).iterationCount,
  )
}

/** Reads a structure from a copy of its ASN.1: pkijs reading it in place spoils it for its own later use. */
const copyOf = <T>(type: { fromBER(data: ArrayBuffer): T }, asn1: { toBER(): ArrayBuffer }): T =>
  type.fromBER(asn1.toBER())

interface Decryptable {
  parseInternalValues(parameters: { password: ArrayBuffer }): Promise<void>
}

const derKey = (der: ArrayBuffer): KeyObject =>
  createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' })

function pkcs12Failure(error: unknown): FiscalError {
  const message = error instanceof Error ? error.message : String(error)
  if (/integrity/i.test(message))
    return refused('wrong_password', 'password', 'is wrong: the PKCS#12 integrity check (MAC) failed')
  if (/unknown|unsupported|not supported/i.test(message))
    return refused(
      'unsupported_encryption',
      'pkcs12',
      `uses an encryption fiscalbox does not read (${message}); export it again with AES-256 (e.g. openssl pkcs12 -export without -legacy)`,
    )
  return refused('wrong_password', 'password', `does not open the PKCS#12 file (${message})`)
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g

function readPem(
  pem: string,
  password: string | undefined,
): { key: KeyObject; certificates: X509Certificate[] } {
  const keys: string[] = []
  const certificates: X509Certificate[] = []
  for (const match of pem.matchAll(PEM_BLOCK)) {
    const label = match[1] ?? ''
    if (label === 'CERTIFICATE') {
      try {
        certificates.push(new X509Certificate(match[0]))
      } catch {
        throw refused(
          'unreadable',
          'pem',
          `certificate ${certificates.length + 1} is not a readable X.509 certificate`,
        )
      }
    } else if (label.endsWith('PRIVATE KEY')) keys.push(match[0])
  }
  if (keys.length !== 1)
    throw refused('unreadable', 'pem', `must hold exactly one private key, it holds ${keys.length}`)
  try {
    return {
      key: createPrivateKey({ key: keys[0] as string, ...(password ? { passphrase: password } : {}) }),
      certificates,
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    if (/passphrase|decrypt|bad/i.test(message))
      throw refused('wrong_password', 'password', 'does not open the encrypted private key')
    throw refused('unreadable', 'pem', `the private key is not readable (${message})`)
  }
}

/** Reads the key and certificates of an input and checks them for the uses asked for, at `now`. */
export async function readCertificate(
  input: CertificateInput,
  uses: readonly CertificateUse[],
  now: Date,
): Promise<CheckedBundle> {
  const { key, certificates } =
    input.format === 'pkcs12'
      ? await readPkcs12(input.data, input.password)
      : readPem(input.pem, input.password)
  if (certificates.length === 0) throw refused('unreadable', input.format, 'holds no certificate')
  const publicKey = createPublicKey(key).export({ type: 'spki', format: 'der' })
  const leaf = certificates.find((c) => c.publicKey.export({ type: 'spki', format: 'der' }).equals(publicKey))
  if (!leaf)
    throw refused(
      'key_mismatch',
      input.format,
      `the private key does not belong to the certificate (${certificates.map((c) => subjectOf(c)).join('; ')})`,
    )
  const chain = linkChain(
    leaf,
    certificates.filter((c) => c !== leaf),
  )
  for (const certificate of [leaf, ...chain]) checkValidity(certificate, now)
  checkUses(leaf, uses)
  return { key, leaf, chain }
}

/** Orders the other certificates from the leaf upwards; one that is not on that path breaks the chain. */
function linkChain(leaf: X509Certificate, others: X509Certificate[]): X509Certificate[] {
  const chain: X509Certificate[] = []
  const left = [...others]
  let current = leaf
  while (left.length > 0) {
    const index = left.findIndex(
      (candidate) => current.checkIssued(candidate) && current.verify(candidate.publicKey),
    )
    if (index < 0) break
    const [issuer] = left.splice(index, 1) as [X509Certificate]
    chain.push(issuer)
    if (issuer.checkIssued(issuer)) break
    current = issuer
  }
  if (left.length > 0)
    throw refused(
      'broken_chain',
      'chain',
      `${subjectOf(left[0] as X509Certificate)} did not sign ${subjectOf(current)} nor any certificate of its chain`,
    )
  return chain
}

function checkValidity(certificate: X509Certificate, now: Date): void {
  if (now < new Date(certificate.validFrom))
    throw refused(
      'not_yet_valid',
      'certificate',
      `${subjectOf(certificate)} is valid only from ${iso(certificate.validFrom)}`,
    )
  if (now > new Date(certificate.validTo))
    throw refused(
      'expired',
      'certificate',
      `${subjectOf(certificate)} expired on ${iso(certificate.validTo)}`,
    )
}

const iso = (text: string) => new Date(text).toISOString()

/** Key usage bits and extended key usages of a certificate, by their RFC 5280 names. */
export function usagesOf(certificate: X509Certificate): { keyUsage: string[]; extendedKeyUsage: string[] } {
  const parsed = new x509.X509Certificate(certificate.raw)
  const ku = parsed.getExtension(x509.KeyUsagesExtension)
  const eku = parsed.getExtension(x509.ExtendedKeyUsageExtension)
  const names = Object.entries(x509.KeyUsageFlags)
    .filter(([, bit]) => typeof bit === 'number' && ku && (ku.usages & bit) !== 0)
    .map(([name]) => name)
  return { keyUsage: ku ? names : [], extendedKeyUsage: eku ? eku.usages.map(String) : [] }
}

/**
 * Both uses need a digital signature (a TLS client signs the handshake, a signer the document), when the
 * certificate restricts its key usage at all; authentication to a server also needs the clientAuth
 * extended key usage, when the certificate restricts that.
 */
export function usesAllowed(certificate: X509Certificate): CertificateUse[] {
  const parsed = new x509.X509Certificate(certificate.raw)
  const ku = parsed.getExtension(x509.KeyUsagesExtension)
  const eku = parsed.getExtension(x509.ExtendedKeyUsageExtension)
  const has = (bit: number) => !ku || (ku.usages & bit) !== 0
  const clientAuth = !eku || eku.usages.some((u) => u === OID.clientAuth || u === OID.anyExtendedKeyUsage)
  const uses: CertificateUse[] = []
  if (has(x509.KeyUsageFlags.digitalSignature) && clientAuth) uses.push('tls_client')
  if (has(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation)) uses.push('signing')
  return uses
}

function checkUses(leaf: X509Certificate, wanted: readonly CertificateUse[]): void {
  const allowed = usesAllowed(leaf)
  const missing = wanted.filter((use) => !allowed.includes(use))
  if (missing.length === 0) return
  const { keyUsage, extendedKeyUsage } = usagesOf(leaf)
  const has = `key usage: ${keyUsage.join(', ') || 'none'}; extended key usage: ${extendedKeyUsage.join(', ') || 'none'}`
  const needs = missing.map((use) =>
    use === 'tls_client'
      ? 'TLS client authentication (digitalSignature and the clientAuth extended key usage)'
      : 'signing (digitalSignature or nonRepudiation)',
  )
  throw refused('wrong_key_usage', 'usage', `the certificate does not allow ${needs.join(' nor ')} (${has})`)
}

/** RFC 2253-like one-line form of a subject or issuer (most specific first, as node prints it reversed). */
export const distinguishedName = (multiline: string): string =>
  multiline.split('\n').filter(Boolean).reverse().join(', ')

const subjectOf = (certificate: X509Certificate) => `"${distinguishedName(certificate.subject)}"`
