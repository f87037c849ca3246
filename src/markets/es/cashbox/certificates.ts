import type { CertificateMaterial } from '../../../core/certificates/certificates.ts'
import { invalid } from '../../../core/errors.ts'
import type { ClientCertificate } from '../transport.ts'
import type { SigningCredentials } from '../ticketbai/xades.ts'
import type { EsCashboxConfig } from './ports.ts'

const FIELD = 'country_config.certificate_id'

/**
 * A stored certificate fit for what the record needs: TicketBAI signs with RSA-SHA256, a submission
 * authenticates with it (clientAuth). Refused at the seal, so the merchant hears of it at once.
 */
function usable(certificate: CertificateMaterial, use: 'signing' | 'tls_client'): CertificateMaterial {
  if (!certificate.uses.includes(use))
    throw invalid(
      FIELD,
      `certificate ${certificate.certificateId} (${certificate.subject}) does not allow ${use === 'signing' ? 'signing' : 'TLS client authentication'}`,
    )
  if (use === 'signing' && certificate.key.asymmetricKeyType !== 'rsa')
    throw invalid(
      FIELD,
      `TicketBAI signs with RSA-SHA256: certificate ${certificate.certificateId} has a ${certificate.key.asymmetricKeyType} key`,
    )
  if (certificate.notAfter.getTime() < Date.now())
    throw invalid(
      FIELD,
      `certificate ${certificate.certificateId} expired on ${certificate.notAfter.toISOString()}: replace it (PUT /v1/certificates/${certificate.certificateId})`,
    )
  return certificate
}

function missing(config: EsCashboxConfig, what: string) {
  return invalid(
    FIELD,
    config.certificateId
      ? `names certificate ${config.certificateId}, which this account does not hold: import it with POST /v1/certificates`
      : `${config.location?.environment ?? config.environment} records of this location need the taxpayer's certificate to ${what}: import it (POST /v1/certificates) and name its id here`,
  )
}

/**
 * The TicketBAI signing credentials of a location cash box's transaction: the stored certificate its
 * configuration names, else (test records only) the sandbox's. Undefined for VERI*FACTU, whose production
 * records need a certificate that authenticates (checked here, used by the submission).
 */
export async function transactionCredentials(
  config: EsCashboxConfig,
  stored: CertificateMaterial | undefined,
  sandbox: () => Promise<SigningCredentials>,
): Promise<SigningCredentials | undefined> {
  const named = config.certificateId ? stored : undefined
  if (config.certificateId && !named) throw missing(config, 'sign')
  if (config.system === 'ticketbai') {
    if (named) {
      const certificate = usable(named, 'signing')
      return { key: certificate.key, certificate: certificate.certificatePem }
    }
    if (config.environment === 'production') throw missing(config, 'sign')
    return sandbox()
  }
  if (named) usable(named, 'tls_client')
  else if (config.environment === 'production') throw missing(config, 'authenticate to the AEAT')
  return undefined
}

/** The TLS client certificate of a cash box's submissions: the stored one, when it allows client authentication. */
export const clientCertificateOf = (
  stored: CertificateMaterial | undefined,
  ca: string | undefined,
): ClientCertificate | undefined =>
  stored?.uses.includes('tls_client')
    ? { key: stored.keyPem, cert: stored.chainPem, ...(ca ? { ca } : {}) }
    : undefined
