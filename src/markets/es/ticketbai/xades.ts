import { createHash, createPrivateKey, createSign, type KeyObject, X509Certificate } from 'node:crypto'
import { C14N_INCLUSIVE, type C14nMethod, canonicalize } from '../xml/c14n.ts'
import { serializeDocument } from '../xml/serialize.ts'
import { el, type XmlElement } from '../xml/tree.ts'

/**
 * XAdES-EPES enveloped signature of a TicketBAI document: a ds:Signature appended as the last child of
 * the root, with three references (the whole document through the enveloped-signature transform, the
 * xades:SignedProperties, the ds:KeyInfo), RSA-SHA256 over the canonical SignedInfo, and the
 * territory's signature policy (identifier + SHA-256 digest) in the signed properties.
 *
 * Deterministic: the ids come from the digest of the unsigned document and RSA PKCS#1 v1.5 signatures
 * are deterministic, so the same invoice, key and signing time always give the same bytes.
 */

export const DSIG = 'http://www.w3.org/2000/09/xmldsig#'
export const XADES = 'http://uri.etsi.org/01903/v1.3.2#'
export const ALG = {
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  signedProperties: 'http://uri.etsi.org/01903#SignedProperties',
} as const

export interface SigningCredentials {
  /** RSA private key (PEM or KeyObject) */
  key: string | KeyObject
  /** the signer's certificate, PEM */
  certificate: string
}

export interface SignatureOptions {
  policy: { identifier: string; digestSha256: string }
  signingTime: Date
  /** canonicalization declared (and used) for SignedInfo and the references; inclusive C14N by default */
  c14n?: C14nMethod
}

export interface SignedDocument {
  xml: string
  /** ds:SignatureValue, base64 without line breaks */
  signatureValue: string
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('base64')

// A signer signs many invoices with one certificate and key: parse each PEM once.
const parsedCertificates = new Map<string, X509Certificate>()
const parsedKeys = new Map<string, KeyObject>()
function remembered<T>(cache: Map<string, T>, pem: string, parse: (pem: string) => T): T {
  let value = cache.get(pem)
  if (!value) {
    value = parse(pem)
    if (cache.size >= 16) cache.clear()
    cache.set(pem, value)
  }
  return value
}

/** RFC 2253 form of a distinguished name from node's multi-line one (most specific RDN first). */
export function rfc2253(nodeName: string): string {
  return nodeName
    .split('\n')
    .filter(Boolean)
    .reverse()
    .map((rdn) => {
      const eq = rdn.indexOf('=')
      const value = rdn
        .slice(eq + 1)
        .replace(/([,+"\\<>;])/g, '\\$1')
        .replace(/^([ #])/, '\\$1')
        .replace(/ $/, '\\ ')
      return `${rdn.slice(0, eq)}=${value}`
    })
    .join(',')
}

export function signEnveloped(
  unsigned: XmlElement,
  credentials: SigningCredentials,
  options: SignatureOptions,
): SignedDocument {
  const method = options.c14n ?? C14N_INCLUSIVE
  const certificate = remembered(
    parsedCertificates,
    credentials.certificate,
    (pem) => new X509Certificate(pem),
  )
  const key =
    typeof credentials.key === 'string'
      ? remembered(parsedKeys, credentials.key, (pem) => createPrivateKey(pem))
      : credentials.key
  if (key.asymmetricKeyType !== 'rsa') throw new Error('TicketBAI signatures need an RSA key')
  const base = createHash('sha256')
    .update(canonicalize(unsigned, unsigned, method))
    .digest('hex')
    .slice(0, 16)
  const ids = {
    signature: `Signature-${base}`,
    reference: `Reference-${base}`,
    signedProperties: `SignedProperties-${base}`,
    keyInfo: `KeyInfo-${base}`,
    signatureValue: `SignatureValue-${base}`,
  }
  const ds = (name: string) => `ds:${name}`
  const xades = (name: string) => `xades:${name}`
  const digest = (value: string) => [
    el(ds('DigestMethod'), { Algorithm: ALG.sha256 }),
    el(ds('DigestValue'), null, value),
  ]

  const keyInfo = el(
    ds('KeyInfo'),
    { Id: ids.keyInfo },
    el(ds('X509Data'), null, el(ds('X509Certificate'), null, certificate.raw.toString('base64'))),
  )
  const signedProperties = el(
    xades('SignedProperties'),
    { Id: ids.signedProperties },
    el(
      xades('SignedSignatureProperties'),
      null,
      el(xades('SigningTime'), null, options.signingTime.toISOString().replace(/\.\d{3}Z$/, 'Z')),
      el(
        xades('SigningCertificate'),
        null,
        el(
          xades('Cert'),
          null,
          el(xades('CertDigest'), null, digest(sha256(certificate.raw))),
          el(
            xades('IssuerSerial'),
            null,
            el(ds('X509IssuerName'), null, rfc2253(certificate.issuer)),
            el(ds('X509SerialNumber'), null, BigInt(`0x${certificate.serialNumber}`).toString(10)),
          ),
        ),
      ),
      el(
        xades('SignaturePolicyIdentifier'),
        null,
        el(
          xades('SignaturePolicyId'),
          null,
          el(xades('SigPolicyId'), null, el(xades('Identifier'), null, options.policy.identifier)),
          el(xades('SigPolicyHash'), null, digest(options.policy.digestSha256)),
          el(
            xades('SigPolicyQualifiers'),
            null,
            el(xades('SigPolicyQualifier'), null, el(xades('SPURI'), null, options.policy.identifier)),
          ),
        ),
      ),
    ),
    el(
      xades('SignedDataObjectProperties'),
      null,
      el(
        xades('DataObjectFormat'),
        { ObjectReference: `#${ids.reference}` },
        el(xades('MimeType'), null, 'text/xml'),
        el(xades('Encoding'), null, 'UTF-8'),
      ),
    ),
  )
  const signedInfo = el(ds('SignedInfo'), null)
  const signatureValue = el(ds('SignatureValue'), { Id: ids.signatureValue })
  const signature = el(
    ds('Signature'),
    { 'xmlns:ds': DSIG, Id: ids.signature },
    signedInfo,
    signatureValue,
    keyInfo,
    el(
      ds('Object'),
      null,
      el(
        xades('QualifyingProperties'),
        { 'xmlns:xades': XADES, Target: `#${ids.signature}` },
        signedProperties,
      ),
    ),
  )
  const document: XmlElement = { ...unsigned, children: [...unsigned.children, signature] }
  const isSignature = (e: XmlElement) => e === signature
  const transforms = el(
    ds('Transforms'),
    null,
    el(ds('Transform'), { Algorithm: ALG.enveloped }),
    el(ds('Transform'), { Algorithm: method }),
  )
  signedInfo.children.push(
    el(ds('CanonicalizationMethod'), { Algorithm: method }),
    el(ds('SignatureMethod'), { Algorithm: ALG.rsaSha256 }),
    el(
      ds('Reference'),
      { Id: ids.reference, URI: '' },
      transforms,
      digest(sha256(canonicalize(document, document, method, isSignature))),
    ),
    el(
      ds('Reference'),
      { Type: ALG.signedProperties, URI: `#${ids.signedProperties}` },
      el(ds('Transforms'), null, el(ds('Transform'), { Algorithm: method })),
      digest(sha256(canonicalize(document, signedProperties, method))),
    ),
    el(
      ds('Reference'),
      { URI: `#${ids.keyInfo}` },
      el(ds('Transforms'), null, el(ds('Transform'), { Algorithm: method })),
      digest(sha256(canonicalize(document, keyInfo, method))),
    ),
  )
  const value = createSign('RSA-SHA256')
    .update(canonicalize(document, signedInfo, method))
    .sign(key)
    .toString('base64')
  signatureValue.children.push(value)
  return { xml: serializeDocument(document), signatureValue: value }
}
