import { createHash, createVerify, X509Certificate } from 'node:crypto'
import { C14N_EXCLUSIVE, C14N_INCLUSIVE, type C14nMethod, canonicalize } from '../xml/c14n.ts'
import { parseXml } from '../xml/parse.ts'
import {
  attribute,
  childAt,
  childElements,
  findElement,
  localName,
  namespaceOf,
  pathTo,
  textOf,
  type XmlElement,
} from '../xml/tree.ts'
import { ALG, DSIG, XADES } from './xades.ts'

/**
 * Checks the enveloped XAdES signature of a received TicketBAI document, as a service does: every
 * reference digest (with the transforms it declares), the RSA-SHA256 signature over the canonical
 * SignedInfo with the certificate of KeyInfo, and reports the signature policy the signed properties
 * name. Trust in the certificate (issuer, validity) is the caller's decision.
 */
export interface SignatureCheck {
  ok: boolean
  problems: string[]
  signatureValue?: string
  certificate?: X509Certificate
  policy?: { identifier: string; digest: string }
  document?: XmlElement
}

const METHODS = new Set<string>([C14N_INCLUSIVE, C14N_EXCLUSIVE])

export function verifyEnvelopedSignature(xml: string): SignatureCheck {
  const problems: string[] = []
  let root: XmlElement
  try {
    root = parseXml(xml)
  } catch (error) {
    return { ok: false, problems: [`not well-formed: ${(error as Error).message}`] }
  }
  const signature = childElements(root, 'Signature').find((s) => namespaceOf([root, s]) === DSIG)
  if (!signature)
    return { ok: false, problems: ['no ds:Signature under the document element'], document: root }
  const signedInfo = childAt(signature, 'SignedInfo')
  const signatureValue = textOf(childAt(signature, 'SignatureValue'))?.replace(/\s+/g, '')
  const certificateText = textOf(childAt(signature, 'KeyInfo', 'X509Data', 'X509Certificate'))?.replace(
    /\s+/g,
    '',
  )
  if (!signedInfo || !signatureValue || !certificateText)
    return {
      ok: false,
      problems: ['ds:Signature lacks SignedInfo, SignatureValue or an X509Certificate'],
      document: root,
    }
  const c14nOf = (element: XmlElement | undefined) => attribute(element ?? signedInfo, 'Algorithm') ?? ''
  const siMethod = c14nOf(childAt(signedInfo, 'CanonicalizationMethod'))
  if (!METHODS.has(siMethod)) problems.push(`unsupported CanonicalizationMethod ${siMethod}`)
  if (c14nOf(childAt(signedInfo, 'SignatureMethod')) !== ALG.rsaSha256)
    problems.push('SignatureMethod must be rsa-sha256')

  const byId = (id: string) => findElement(root, (e) => attribute(e, 'Id') === id)
  const references = childElements(signedInfo, 'Reference')
  if (references.length === 0) problems.push('SignedInfo has no Reference')
  let coversDocument = false
  let coversSignedProperties = false
  for (const reference of references) {
    const uri = attribute(reference, 'URI') ?? ''
    const transforms = childElements(childAt(reference, 'Transforms') ?? reference, 'Transform').map(
      (t) => attribute(t, 'Algorithm') ?? '',
    )
    const enveloped = transforms.includes(ALG.enveloped)
    const method = (transforms.find((t) => METHODS.has(t)) ?? C14N_INCLUSIVE) as C14nMethod
    const unknown = transforms.filter((t) => t !== ALG.enveloped && !METHODS.has(t))
    if (unknown.length) {
      problems.push(`Reference ${uri}: unsupported transform ${unknown.join(', ')}`)
      continue
    }
    if (attribute(childAt(reference, 'DigestMethod') ?? reference, 'Algorithm') !== ALG.sha256) {
      problems.push(`Reference ${uri}: DigestMethod must be sha256`)
      continue
    }
    let target: XmlElement | undefined
    if (uri === '') target = root
    else if (uri.startsWith('#')) target = byId(uri.slice(1))
    if (!target) {
      problems.push(`Reference ${uri}: target not found`)
      continue
    }
    if (uri === '') coversDocument = enveloped
    if (
      target &&
      localName(target.name) === 'SignedProperties' &&
      namespaceOf(pathTo(root, target) ?? []) === XADES
    )
      coversSignedProperties = true
    const canonical = canonicalize(root, target, method, enveloped ? (e) => e === signature : undefined)
    const digest = createHash('sha256').update(canonical).digest('base64')
    if (digest !== textOf(childAt(reference, 'DigestValue'))?.trim())
      problems.push(`Reference ${uri}: digest mismatch`)
  }
  if (!coversDocument) problems.push('no enveloped reference to the whole document (URI="")')
  if (!coversSignedProperties) problems.push('the xades:SignedProperties are not signed')

  let certificate: X509Certificate | undefined
  try {
    certificate = new X509Certificate(Buffer.from(certificateText, 'base64'))
    const valid = createVerify('RSA-SHA256')
      .update(
        canonicalize(root, signedInfo, METHODS.has(siMethod) ? (siMethod as C14nMethod) : C14N_INCLUSIVE),
      )
      .verify(certificate.publicKey, Buffer.from(signatureValue, 'base64'))
    if (!valid) problems.push('SignatureValue does not verify with the KeyInfo certificate')
  } catch (error) {
    problems.push(`certificate or signature unreadable: ${(error as Error).message}`)
  }
  const policyId = findElement(signature, (e) => localName(e.name) === 'SignaturePolicyId')
  const identifier = policyId && textOf(childAt(policyId, 'SigPolicyId', 'Identifier'))
  const policyDigest = policyId && textOf(childAt(policyId, 'SigPolicyHash', 'DigestValue'))
  if (!identifier || !policyDigest) problems.push('no xades:SignaturePolicyIdentifier (XAdES-EPES)')
  return {
    ok: problems.length === 0,
    problems,
    signatureValue,
    ...(certificate ? { certificate } : {}),
    ...(identifier && policyDigest ? { policy: { identifier, digest: policyDigest } } : {}),
    document: root,
  }
}
