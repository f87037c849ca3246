import 'reflect-metadata'
import { generateKeyPairSync, webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import type { MasterKey } from '../../../core/secrets.ts'

x509.cryptoProvider.set(webcrypto as unknown as Crypto)

/** A certificate authority of this installation: the root CA or the sub-CA that issues TSS certificates. */
export interface CertificateAuthority {
  name: 'root' | 'sub'
  /** DER */
  certificate: Buffer
  privateKeyEncrypted: string
}

const CA_CURVE = 'P-384'
const CA_SIGNING = { name: 'ECDSA', hash: 'SHA-384' } as const
const YEAR_MS = 365.25 * 24 * 3600 * 1000

/**
 * RFC 5280: the root may have one CA below it (pathLenConstraint 1), the sub-CA none but TSS certificates
 * (0). Every certificate carries its Subject Key Identifier, and every issued one the Authority Key
 * Identifier of its issuer (4.2.1.1, 4.2.1.2), as `openssl verify -x509_strict` requires.
 */
async function caExtensions(pathLength: number, subject: Uint8Array, issuer?: Uint8Array) {
  return [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ...(await keyIdentifiers(subject, issuer)),
  ]
}

async function keyIdentifiers(subjectSpki: Uint8Array, issuerSpki?: Uint8Array) {
  const key = (spki: Uint8Array) => new x509.PublicKey(Uint8Array.from(spki))
  return [
    await x509.SubjectKeyIdentifierExtension.create(key(subjectSpki)),
    ...(issuerSpki ? [await x509.AuthorityKeyIdentifierExtension.create(key(issuerSpki))] : []),
  ]
}

async function importSigningKey(pkcs8: Buffer): Promise<CryptoKey> {
  return webcrypto.subtle.importKey(
    'pkcs8',
    Uint8Array.from(pkcs8),
    { name: 'ECDSA', namedCurve: CA_CURVE },
    false,
    ['sign'],
  ) as Promise<CryptoKey>
}

function newCaKey(master: MasterKey) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: CA_CURVE })
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' })
  return { spki: publicKey.export({ type: 'spki', format: 'der' }), pkcs8, sealed: master.encrypt(pkcs8) }
}

/** The installation's root CA and sub-CA, made once (the caller stores them; a second node reuses them). */
export async function newCertificateAuthorities(
  master: MasterKey,
  now = new Date(),
): Promise<CertificateAuthority[]> {
  const root = newCaKey(master)
  const sub = newCaKey(master)
  const rootName = 'CN=fiscalbox TSS Root CA, O=fiscalbox'
  const rootSigning = await importSigningKey(root.pkcs8)
  const rootCert = await x509.X509CertificateGenerator.create({
    subject: rootName,
    issuer: rootName,
    publicKey: Uint8Array.from(root.spki),
    signingKey: rootSigning,
    signingAlgorithm: CA_SIGNING,
    notBefore: now,
    notAfter: new Date(now.getTime() + 25 * YEAR_MS),
    extensions: await caExtensions(1, root.spki),
  })
  const subCert = await x509.X509CertificateGenerator.create({
    subject: 'CN=fiscalbox TSS Sub CA, O=fiscalbox',
    issuer: rootName,
    publicKey: Uint8Array.from(sub.spki),
    signingKey: rootSigning,
    signingAlgorithm: CA_SIGNING,
    notBefore: now,
    notAfter: new Date(now.getTime() + 20 * YEAR_MS),
    extensions: await caExtensions(0, sub.spki, root.spki),
  })
  return [
    { name: 'root', certificate: Buffer.from(rootCert.rawData), privateKeyEncrypted: root.sealed },
    { name: 'sub', certificate: Buffer.from(subCert.rawData), privateKeyEncrypted: sub.sealed },
  ]
}

/** The TSS leaf certificate: subject CN is the TSS serial number in hex, issued by the sub-CA. */
export async function issueTssCertificate(
  sub: CertificateAuthority,
  tssPublicKeySpki: Buffer,
  serialNumber: Buffer,
  master: MasterKey,
  now = new Date(),
): Promise<Buffer> {
  const issuer = new x509.X509Certificate(Uint8Array.from(sub.certificate))
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${serialNumber.toString('hex')}, O=fiscalbox TSS`,
    issuer: issuer.subject,
    publicKey: Uint8Array.from(tssPublicKeySpki),
    signingKey: await importSigningKey(master.decrypt(sub.privateKeyEncrypted)),
    signingAlgorithm: CA_SIGNING,
    notBefore: now,
    notAfter: new Date(now.getTime() + 8 * YEAR_MS),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ...(await keyIdentifiers(tssPublicKeySpki, Buffer.from(issuer.publicKey.rawData))),
    ],
  })
  return Buffer.from(cert.rawData)
}

export const toPem = (der: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`
