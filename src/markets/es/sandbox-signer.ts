import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import type { SigningCredentials } from './ticketbai/xades.ts'

/**
 * The signing certificate of TicketBAI records in the test environment (fsk_test_ keys): a self-signed
 * RSA-2048 certificate made when the process starts, never a real one. The sandbox simulator accepts any
 * signer unless it is told to trust a CA; live records need the taxpayer's own certificate.
 */
const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
}

export async function sandboxSigningCredentials(now = new Date()): Promise<SigningCredentials> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto)
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Date.now().toString(16),
    name: 'CN=fiscalbox sandbox TicketBAI signer, O=fiscalbox test environment, C=ES',
    notBefore: new Date(now.getTime() - 86_400_000),
    notAfter: new Date(now.getTime() + 5 * 365 * 86_400_000),
    keys,
    signingAlgorithm: RSA,
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
  })
  const der = Buffer.from(
    await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey),
  ).toString('base64')
  const key = `-----BEGIN PRIVATE KEY-----\n${der.replace(/(.{64})/g, '$1\n').trimEnd()}\n-----END PRIVATE KEY-----\n`
  return { key, certificate: cert.toString('pem') }
}
