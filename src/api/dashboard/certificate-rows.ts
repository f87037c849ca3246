import type { StoredCertificate } from '../../core/certificates/certificates.ts'
import { utc } from './credential-rows.ts'

export interface StoredCertificateRow {
  id: string
  name: string
  version: number
  subject: string
  issuer: string
  serial: string
  notBefore: string
  notAfter: string
  uses: string
  usedBy: string
}

/** The certificates the account imported, as the page lists them (never the key: the view has none). */
export const storedCertificateRows = (
  certificates: ReadonlyArray<{ certificate: StoredCertificate; usedBy: string[] }>,
): StoredCertificateRow[] =>
  certificates.map(({ certificate, usedBy }) => ({
    id: certificate.id,
    name: certificate.name,
    version: certificate.active.version,
    subject: certificate.active.subject,
    issuer: certificate.active.issuer,
    serial: certificate.active.serialNumber,
    notBefore: utc(new Date(certificate.active.notBefore)),
    notAfter: utc(new Date(certificate.active.notAfter)),
    uses: certificate.active.uses.join(', ') || 'none',
    usedBy: usedBy.length > 0 ? usedBy.map((l) => `location ${l}`).join(', ') : 'no location yet',
  }))
