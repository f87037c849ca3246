import type { XmlElement } from './tree.ts'

export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at offset ${position}`)
    this.name = 'XmlSyntaxError'
  }
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.\u00B7-\uFFFF]*/y
const MAX_DEPTH = 256

/**
 * A small non-validating XML parser for the documents the Spanish services exchange: elements,
 * attributes, text, CDATA, character and predefined entity references. Comments, processing
 * instructions and the XML declaration are skipped; a DOCTYPE is refused (no external entities, no
 * entity expansion attacks). Line ends are normalized and attribute values normalized as XML 1.0 says,
 * so the tree is what a conforming parser such as libxml2 would build.
 */
export function parseXml(input: string): XmlElement {
  let pos = 0
  const text = input.replace(/\r\n?/g, '\n')
  const fail = (message: string): never => {
    throw new XmlSyntaxError(message, pos)
  }

  const skipMisc = () => {
    for (;;) {
      while (pos < text.length && /\s/.test(text[pos] as string)) pos++
      if (text.startsWith('<?', pos)) {
        const end = text.indexOf('?>', pos)
        if (end < 0) fail('unterminated processing instruction')
        pos = end + 2
      } else if (text.startsWith('<!--', pos)) {
        const end = text.indexOf('-->', pos)
        if (end < 0) fail('unterminated comment')
        pos = end + 3
      } else if (text.startsWith('<!DOCTYPE', pos)) {
        fail('DOCTYPE is not accepted')
      } else return
    }
  }

  const name = (): string => {
    NAME.lastIndex = pos
    const match = NAME.exec(text)
    if (!match) return fail('expected a name')
    pos += match[0].length
    return match[0]
  }

  const decode = (raw: string, inAttribute: boolean): string => {
    const normalized = inAttribute ? raw.replace(/[\t\n]/g, ' ') : raw
    // Most values hold no reference at all: no replace, no callback.
    if (!normalized.includes('&')) return normalized
    return normalized.replace(/&(#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z]+);|&/g, (whole, ref: string | undefined) => {
      if (ref === undefined) return fail('bare & (write &amp;)')
      if (ref.startsWith('#')) {
        const code = ref.startsWith('#x')
          ? Number.parseInt(ref.slice(2), 16)
          : Number.parseInt(ref.slice(1), 10)
        // Only the characters XML 1.0 allows (Char production).
        const allowed =
          code === 0x9 ||
          code === 0xa ||
          code === 0xd ||
          (code >= 0x20 && code <= 0xd7ff) ||
          (code >= 0xe000 && code <= 0xfffd) ||
          (code >= 0x10000 && code <= 0x10ffff)
        return allowed
          ? String.fromCodePoint(code)
          : fail(`character reference ${whole} is not an XML character`)
      }
      const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }
      return named[ref] ?? fail(`unknown entity ${whole}`)
    })
  }

  const element = (depth: number): XmlElement => {
    if (depth > MAX_DEPTH) fail('elements nested too deeply')
    if (text[pos] !== '<') fail('expected <')
    pos++
    const tag = name()
    const node: XmlElement = { name: tag, attributes: [], children: [] }
    for (;;) {
      const before = pos
      while (pos < text.length && /\s/.test(text[pos] as string)) pos++
      if (text.startsWith('/>', pos)) {
        pos += 2
        return node
      }
      if (text[pos] === '>') {
        pos++
        break
      }
      if (pos === before) fail('expected whitespace before an attribute')
      const key = name()
      // An element has a few attributes: a look through them costs less than a Set per element.
      if (node.attributes.some(([k]) => k === key)) fail(`duplicate attribute ${key}`)
      while (/\s/.test(text[pos] ?? '')) pos++
      if (text[pos] !== '=') fail('expected =')
      pos++
      while (/\s/.test(text[pos] ?? '')) pos++
      const quote = text[pos]
      if (quote !== '"' && quote !== "'") fail('expected a quoted attribute value')
      const end = text.indexOf(quote as string, pos + 1)
      if (end < 0) fail('unterminated attribute value')
      const raw = text.slice(pos + 1, end)
      if (raw.includes('<')) fail('< in an attribute value')
      node.attributes.push([key, decode(raw, true)])
      pos = end + 1
    }
    // Text between child elements, pushed as one child before the next element or the end (no closure
    // for that per element: under tsx each one made costs a defineProperty for its name).
    let buffer = ''
    for (;;) {
      if (pos >= text.length) fail(`unterminated element ${tag}`)
      if (text.startsWith('</', pos)) {
        pos += 2
        const closing = name()
        if (closing !== tag) fail(`</${closing}> closes <${tag}>`)
        while (/\s/.test(text[pos] ?? '')) pos++
        if (text[pos] !== '>') fail('expected >')
        pos++
        if (buffer) node.children.push(buffer)
        return node
      }
      if (text.startsWith('<![CDATA[', pos)) {
        const end = text.indexOf(']]>', pos)
        if (end < 0) fail('unterminated CDATA section')
        buffer += text.slice(pos + 9, end)
        pos = end + 3
      } else if (text.startsWith('<!--', pos)) {
        const end = text.indexOf('-->', pos)
        if (end < 0) fail('unterminated comment')
        pos = end + 3
      } else if (text.startsWith('<?', pos)) {
        const end = text.indexOf('?>', pos)
        if (end < 0) fail('unterminated processing instruction')
        pos = end + 2
      } else if (text[pos] === '<') {
        if (buffer) node.children.push(buffer)
        buffer = ''
        node.children.push(element(depth + 1))
      } else {
        const next = text.indexOf('<', pos)
        const end = next < 0 ? text.length : next
        buffer += decode(text.slice(pos, end), false)
        pos = end
      }
    }
  }

  if (text.charCodeAt(0) === 0xfeff) pos = 1
  skipMisc()
  const root = element(0)
  skipMisc()
  if (pos < text.length) fail('content after the document element')
  return root
}
