import 'reflect-metadata'
import { execFileSync } from 'node:child_process'
import { webcrypto } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'

/**
 * Test certificates made in the test run (never real ones): CAs, a taxpayer's client certificate, and the
 * ways a merchant's certificate can be wrong (expired, not yet valid, wrong usage, another CA). PKCS#12
 * files are made by openssl, an independent tool, so that the store reads what merchants get.
 */
x509.cryptoProvider.set(webcrypto as unknown as Crypto)

export const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
}
const DAY = 86_400_000

export interface Issued {
  key: string
  cert: string
  keys: CryptoKeyPair
  x509: x509.X509Certificate
}

export async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey))
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd()}\n-----END PRIVATE KEY-----\n`
}

const withNewline = (pem: string) => (pem.endsWith('\n') ? pem : `${pem}\n`)

const generate = () => webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']) as Promise<CryptoKeyPair>
let serial = 0x1000

export async function testCa(name: string, issuer?: Issued): Promise<Issued> {
  const keys = await generate()
  const extensions = [
    new x509.BasicConstraintsExtension(true, issuer ? 0 : 1, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ]
  const cert = issuer
    ? await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16),
        subject: name,
        issuer: issuer.x509.subject,
        notBefore: new Date(Date.now() - DAY),
        notAfter: new Date(Date.now() + 365 * DAY),
        signingAlgorithm: RSA,
        publicKey: keys.publicKey,
        signingKey: issuer.keys.privateKey,
        extensions,
      })
    : await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: (serial++).toString(16),
        name,
        notBefore: new Date(Date.now() - DAY),
        notAfter: new Date(Date.now() + 365 * DAY),
        keys,
        signingAlgorithm: RSA,
        extensions,
      })
  return { key: await keyPem(keys.privateKey), cert: withNewline(cert.toString('pem')), keys, x509: cert }
}

export interface ClientOptions {
  /** days from now; negative for the past */
  from?: number
  to?: number
  keyUsage?: number
  extendedKeyUsage?: string[]
  extra?: x509.Extension[]
}

/** A taxpayer's certificate: digitalSignature + nonRepudiation, clientAuth, valid from yesterday for 30 days. */
export async function testClient(issuer: Issued, name: string, options: ClientOptions = {}): Promise<Issued> {
  const keys = await generate()
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16),
    subject: name,
    issuer: issuer.x509.subject,
    notBefore: new Date(Date.now() + (options.from ?? -1) * DAY),
    notAfter: new Date(Date.now() + (options.to ?? 30) * DAY),
    signingAlgorithm: RSA,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        options.keyUsage ?? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
        true,
      ),
      new x509.ExtendedKeyUsageExtension(options.extendedKeyUsage ?? [x509.ExtendedKeyUsage.clientAuth]),
      ...(options.extra ?? []),
    ],
  })
  return { key: await keyPem(keys.privateKey), cert: withNewline(cert.toString('pem')), keys, x509: cert }
}

/** The ways a merchant's certificate issued by `ca` can be unusable: expired, not yet valid, server-only. */
export async function unusableClients(ca: Issued) {
  return {
    expired: await testClient(ca, 'C=ES, CN=Expired', { from: -400, to: -35 }),
    early: await testClient(ca, 'C=ES, CN=Not yet', { from: 10, to: 400 }),
    serverOnly: await testClient(ca, 'C=ES, CN=Server only', {
      keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      extendedKeyUsage: [x509.ExtendedKeyUsage.serverAuth],
    }),
  }
}

/** A PKCS#12 file made by `openssl pkcs12 -export` (AES-256, PBKDF2, HMAC-SHA256: OpenSSL 3's default). */
export function pkcs12(
  key: string,
  chain: string[],
  password: string,
  options: { legacy?: boolean; keyIterations?: number } = {},
): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-p12-'))
  try {
    writeFileSync(join(dir, 'key.pem'), key, { mode: 0o600 })
    writeFileSync(join(dir, 'chain.pem'), chain.join(''))
    writeFileSync(join(dir, 'pass'), password, { mode: 0o600 })
    execFileSync('openssl', [
      'pkcs12',
      '-export',
      ...(options.legacy ? ['-legacy'] : []),
      // Only the key is encrypted then (certificates in clear), so that openssl derives one key, not two.
      ...(options.keyIterations ? ['-iter', String(options.keyIterations), '-certpbe', 'NONE'] : []),
      '-inkey',
      join(dir, 'key.pem'),
      '-in',
      join(dir, 'chain.pem'),
      '-out',
      join(dir, 'out.p12'),
      '-passout',
      `file:${join(dir, 'pass')}`,
    ])
    return readFileSync(join(dir, 'out.p12'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export { x509 }
