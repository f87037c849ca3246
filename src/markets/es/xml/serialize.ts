import { type XmlElement, type XmlNode, isElement } from './tree.ts'

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

// The escapes of Canonical XML (C14N 1.0 §2.3), so that text written here is already in canonical form.
export function escapeText(text: string): string {
  return text.replace(/[&<>\r]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#xD;',
  )
}

export function escapeAttribute(value: string): string {
  return value.replace(/[&<"\t\n\r]/g, (c) =>
    c === '&'
      ? '&amp;'
      : c === '<'
        ? '&lt;'
        : c === '"'
          ? '&quot;'
          : c === '\t'
            ? '&#x9;'
            : c === '\n'
              ? '&#xA;'
              : '&#xD;',
  )
}

/**
 * Writes an element tree compactly (no added whitespace), attributes in the order given, empty elements
 * as start/end pairs. Deterministic: the same tree always gives the same bytes.
 */
export function serialize(node: XmlNode): string {
  const out: string[] = []
  write(node, out)
  return out.join('')
}

export function serializeDocument(root: XmlElement): string {
  return `${XML_DECLARATION}\n${serialize(root)}`
}

function write(node: XmlNode, out: string[]): void {
  if (!isElement(node)) {
    out.push(escapeText(node))
    return
  }
  out.push('<', node.name)
  for (const [key, value] of node.attributes) out.push(' ', key, '="', escapeAttribute(value), '"')
  out.push('>')
  for (const c of node.children) write(c, out)
  out.push('</', node.name, '>')
}
