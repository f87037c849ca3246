import type { CertificateMaterial } from '../../../core/certificates/certificates.ts'
import { invalid } from '../../../core/errors.ts'
import type { ClientCertificate } from '../transport.ts'
import type { SigningCredentials } from '../ticketbai/xades.ts'
import type { EsCashboxConfig } from './ports.ts'

/** Where the configuration names its certificate: a location's country_config, a /v2 cash box's body. */
const fieldOf = (config: EsCashboxConfig) =>
  config.location ? 'country_config.certificate_id' : 'certificate_id'

/**
 * A stored certificate fit for what the record needs: TicketBAI signs with RSA-SHA256, a submission
 * authenticates with it (clientAuth). Refused at once, so the merchant hears of it before a record waits.
 */
function usable(
  certificate: CertificateMaterial,
  use: 'signing' | 'tls_client',
  field: string,
): CertificateMaterial {
  if (!certificate.uses.includes(use))
    throw invalid(
      field,
      `certificate ${certificate.certificateId} (${certificate.subject}) does not allow ${use === 'signing' ? 'signing' : 'TLS client authentication'}`,
    )
  if (use === 'signing' && certificate.key.asymmetricKeyType !== 'rsa')
    throw invalid(
      field,
      `TicketBAI signs with RSA-SHA256: certificate ${certificate.certificateId} has a ${certificate.key.asymmetricKeyType} key`,
    )
  if (certificate.notAfter.getTime() < Date.now())
    throw invalid(
      field,
      `certificate ${certificate.certificateId} expired on ${certificate.notAfter.toISOString()}: replace it (PUT /v1/certificates/${certificate.certificateId})`,
    )
  return certificate
}

function missing(config: EsCashboxConfig, field: string) {
  const holder = config.location ? 'location' : 'cash box'
  const what = config.system === 'ticketbai' ? 'sign' : 'authenticate to the AEAT'
  return invalid(
    field,
    config.certificateId
      ? `names certificate ${config.certificateId}, which this account does not hold: import it with POST /v1/certificates`
      : `${config.location?.environment ?? config.environment} records of this ${holder} need the taxpayer's certificate to ${what}: import it (POST /v1/certificates) and name its id here`,
  )
}

/**
 * The stored certificate a Spanish configuration names (`stored`: the account's active version of it),
 * checked for what its records need: TicketBAI signs with it, VERI*FACTU authenticates with it. A
 * production configuration must name one; a test one may (the sandbox signs otherwise). One rule for a
 * location's transactions (checked at each seal) and a /v2 cash box (at its configuration and each seal).
 */
export function namedCertificate(
  config: EsCashboxConfig,
  stored: CertificateMaterial | undefined,
): CertificateMaterial | undefined {
  const field = fieldOf(config)
  if (config.certificateId) {
    if (!stored) throw missing(config, field)
    return usable(stored, config.system === 'ticketbai' ? 'signing' : 'tls_client', field)
  }
  if (config.environment === 'production') throw missing(config, field)
  return undefined
}

/**
 * The TicketBAI signing credentials of a record: the stored certificate its configuration names, else
 * (test records only) the sandbox's. Undefined for VERI*FACTU, whose certificate is the submission's.
 */
export async function recordCredentials(
  config: EsCashboxConfig,
  stored: CertificateMaterial | undefined,
  sandbox: () => Promise<SigningCredentials>,
): Promise<SigningCredentials | undefined> {
  const certificate = namedCertificate(config, stored)
  if (config.system !== 'ticketbai') return undefined
  return certificate ? { key: certificate.key, certificate: certificate.certificatePem } : sandbox()
}

/** Which certificate a configuration uses, as its views show it: never the key. */
export const certificateSummary = (certificate: CertificateMaterial) => ({
  id: certificate.certificateId,
  subject: certificate.subject,
  notAfter: certificate.notAfter.toISOString(),
})

/** The TLS client certificate of a cash box's submissions: the stored one, when it allows client authentication. */
export const clientCertificateOf = (
  stored: CertificateMaterial | undefined,
  ca: string | undefined,
): ClientCertificate | undefined =>
  stored?.uses.includes('tls_client')
    ? { key: stored.keyPem, cert: stored.chainPem, ...(ca ? { ca } : {}) }
    : undefined
