import { createHash } from 'node:crypto'
import type { CredentialSource } from '../../core/credentials.ts'
import type { Runtime } from '../../runtime.ts'
import { ptServicesOf } from './services.ts'

/**
 * The RSA key each configured cash box signs its documents with. The law gives it no validity period
 * (Portaria 363/2010 and Despacho 8632/2014 ask for the key pair registered with the AT and its version in
 * SAF-T HashControl): it is valid until the producer registers another, so it is listed without expiry.
 */
export function ptCredentials(runtime: Runtime): CredentialSource {
  return {
    async credentials() {
      const keys = await ptServicesOf(runtime.marketFor).signingKeys()
      return keys.map((key) => ({
        country: 'PT',
        kind: 'key' as const,
        use: 'document signing key (RSA, registered with the AT)',
        holder: `key version ${key.keyVersion}`,
        cashboxId: key.cashboxId,
        subject: `public key SHA-256 ${fingerprint(key.publicKey)}`,
        issuer: null,
        serial: String(key.keyVersion),
        notBefore: null,
        notAfter: null,
      }))
    },
  }
}

/** Names a key without showing it (the public key, but 400 characters of it say less than its digest). */
const fingerprint = (publicKeyPem: string): string =>
  createHash('sha256')
    .update(Buffer.from(publicKeyPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'))
    .digest('hex')
    .slice(0, 16)
