import { contentOf, integerOf, oidOf, readChildren, readTlv } from './der.ts'

/**
 * The X.509 v3 extensions a chain check needs (RFC 5280 4.2.1), read from the certificate's DER with the
 * verifier's own reader: node:crypto exposes none of them but the cA flag.
 */
export interface CertificateExtensions {
  /** basicConstraints (2.5.29.19); undefined when the extension is absent. */
  basicConstraints?: { ca: boolean; pathLength?: number }
  /** keyUsage (2.5.29.15) bits by name; undefined when the extension is absent. */
  keyUsage?: { digitalSignature: boolean; keyCertSign: boolean }
  /** subjectKeyIdentifier (2.5.29.14), hex. */
  subjectKeyId?: string
  /** authorityKeyIdentifier (2.5.29.35) keyIdentifier [0], hex; '' when the extension has no keyIdentifier. */
  authorityKeyId?: string
}

const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
}
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** Reads the extensions; throws a DerError when the certificate is not the DER RFC 5280 describes. */
export function certificateExtensions(der: Uint8Array): CertificateExtensions {
  const certificate = readTlv(der, 0)
  const [tbs] = readChildren(der, certificate.contentStart, certificate.end)
  if (!tbs) return {}
  // extensions [3] EXPLICIT is the only [3] among the TBSCertificate's fields
  const wrapper = readChildren(der, tbs.contentStart, tbs.end).find((t) => t.tag === 0xa3)
  if (!wrapper) return {}
  const list = readTlv(der, wrapper.contentStart, wrapper.end)
  const found: CertificateExtensions = {}
  for (const extension of readChildren(der, list.contentStart, list.end)) {
    const parts = readChildren(der, extension.contentStart, extension.end)
    const id = oidOf(contentOf(der, parts[0] as (typeof parts)[number]))
    const value = contentOf(der, parts[parts.length - 1] as (typeof parts)[number])
    const inner = readTlv(value, 0)
    if (id === OID.basicConstraints) {
      const fields = readChildren(value, inner.contentStart, inner.end)
      const ca = fields[0]?.tag === 0x01 && value[fields[0].contentStart] !== 0
      const length = fields.find((f) => f.tag === 0x02)
      found.basicConstraints = {
        ca,
        ...(length ? { pathLength: Number(integerOf(contentOf(value, length))) } : {}),
      }
    } else if (id === OID.keyUsage) {
      // BIT STRING: unused-bits byte, then bit 0 (digitalSignature) as the high bit of the first byte
      const bits = contentOf(value, inner)
      const bit = (n: number) => (((bits[1 + (n >> 3)] ?? 0) >> (7 - (n & 7))) & 1) === 1
      found.keyUsage = { digitalSignature: bit(0), keyCertSign: bit(5) }
    } else if (id === OID.subjectKeyId) {
      found.subjectKeyId = hex(contentOf(value, inner))
    } else if (id === OID.authorityKeyId) {
      const keyId = readChildren(value, inner.contentStart, inner.end).find((f) => f.tag === 0x80)
      found.authorityKeyId = keyId ? hex(contentOf(value, keyId)) : ''
    }
  }
  return found
}
