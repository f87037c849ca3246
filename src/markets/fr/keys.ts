import type { CredentialSource } from '../../core/credentials.ts'
import type { Runtime } from '../../runtime.ts'

/**
 * The key each French cash box signs its JWS entries with: its queue's P-256 key (docs/country-fr.md).
 * Neither the CGI nor the certification rules give such a key a validity period: it signs until the
 * cash box is replaced, so it is listed without expiry. The queue id names it (its public key is the
 * cash box's `publicKey`).
 */
export function frCredentials(runtime: Runtime): CredentialSource {
  return {
    async credentials() {
      return (await runtime.cashboxes.list())
        .filter((cashbox) => cashbox.country === 'FR')
        .map((cashbox) => ({
          country: 'FR',
          kind: 'key' as const,
          use: 'JWS signing key (P-256 queue key)',
          holder: `queue ${cashbox.queueId}`,
          cashboxId: cashbox.id,
          subject: `queue key of ${cashbox.label || cashbox.id}`,
          issuer: null,
          serial: null,
          notBefore: new Date(cashbox.createdAt),
          notAfter: null,
        }))
    },
  }
}
