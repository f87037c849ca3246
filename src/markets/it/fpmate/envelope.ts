import { serialize, XML_DECLARATION } from '../../es/xml/serialize.ts'
import { childElements, el, localName, type XmlElement } from '../../es/xml/tree.ts'

/** The SOAP 1.1 envelope both directions of fpmate travel in. */
export const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/'

export function envelope(body: XmlElement): string {
  return `${XML_DECLARATION}\n${serialize(el('s:Envelope', { 'xmlns:s': SOAP_NS }, el('s:Body', null, body)))}`
}

/**
 * The one element a message carries: the Body's only child, or the document element itself when a
 * client sends it without an envelope (Epson's JavaScript SDK does). Undefined when the Body does not
 * hold exactly one element.
 */
export function payloadOf(document: XmlElement): XmlElement | undefined {
  if (localName(document.name) !== 'Envelope') return document
  const body = childElements(document, 'Body')
  if (body.length !== 1) return undefined
  const inner = childElements(body[0] as XmlElement)
  return inner.length === 1 ? inner[0] : undefined
}
