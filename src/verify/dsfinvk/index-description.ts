/**
 * Reads the GDPdU description (index.xml, gdpdu-01-09-2004.dtd) of a DSFinV-K export as the verifier
 * needs it: per table its file (URL), name, separators and columns with their declared types. A small
 * element parser of its own: it checks that every element is closed in order (well-formedness as far as
 * the DTD's element-only content needs) and keeps text content with the five predefined entities decoded.
 */

export interface DeclaredColumn {
  name: string
  type: 'numeric' | 'alphanumeric'
  /** Numeric: digits after the decimal symbol (0 when no Accuracy is declared). */
  accuracy: number
  /** AlphaNumeric: MaxLength, when declared. */
  maxLength?: number
}

export interface DeclaredTable {
  file: string
  name: string
  decimalSymbol: string
  columnDelimiter: string
  recordDelimiter: string
  textEncapsulator: string
  /** Rows before this one (1-based) are the header. */
  firstDataRow: number
  columns: DeclaredColumn[]
}

export class IndexXmlError extends Error {}

interface XmlElement {
  name: string
  children: XmlElement[]
  text: string
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16))
    if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)))
    const named = ENTITIES[entity]
    if (named === undefined) throw new IndexXmlError(`unknown entity ${whole}`)
    return named
  })
}

/** Elements of the document; throws IndexXmlError when tags do not nest or the text is not XML. */
function parseXml(source: string): XmlElement {
  const root: XmlElement = { name: '#document', children: [], text: '' }
  const open: XmlElement[] = [root]
  const token =
    /<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>|<\/?([A-Za-z_][\w.-]*)[^>]*?(\/?)>|([^<]+)|(<)/g
  for (let match = token.exec(source); match; match = token.exec(source)) {
    const [whole, name, selfClosing, text, stray] = match
    const current = open.at(-1) as XmlElement
    if (stray) throw new IndexXmlError(`a '<' that starts no tag at character ${match.index}`)
    if (text !== undefined) {
      if (current === root) {
        if (text.trim()) throw new IndexXmlError('text outside the root element')
      } else current.text += decode(text)
      continue
    }
    if (!name) continue
    if (whole.startsWith('</')) {
      if (current.name !== name)
        throw new IndexXmlError(`</${name}> closes <${current.name}> at character ${match.index}`)
      open.pop()
      continue
    }
    const element: XmlElement = { name, children: [], text: '' }
    if (current === root && root.children.length) throw new IndexXmlError('more than one root element')
    current.children.push(element)
    if (!selfClosing) open.push(element)
  }
  if (open.length > 1) throw new IndexXmlError(`<${(open.at(-1) as XmlElement).name}> is never closed`)
  const [document] = root.children
  if (!document) throw new IndexXmlError('no root element')
  return document
}

const child = (element: XmlElement, name: string) => element.children.find((c) => c.name === name)
const textOf = (element: XmlElement, name: string) => child(element, name)?.text.trim()

function columnOf(element: XmlElement): DeclaredColumn {
  const name = textOf(element, 'Name')
  if (!name) throw new IndexXmlError(`a <${element.name}> without <Name>`)
  const numeric = child(element, 'Numeric')
  if (numeric) return { name, type: 'numeric', accuracy: Number(textOf(numeric, 'Accuracy') ?? 0) }
  if (!child(element, 'AlphaNumeric'))
    throw new IndexXmlError(`column ${name}: neither Numeric nor AlphaNumeric`)
  const maxLength = textOf(element, 'MaxLength')
  return { name, type: 'alphanumeric', accuracy: 0, ...(maxLength ? { maxLength: Number(maxLength) } : {}) }
}

function tableOf(element: XmlElement): DeclaredTable {
  const file = textOf(element, 'URL')
  if (!file) throw new IndexXmlError('a <Table> without <URL>')
  const layout = child(element, 'VariableLength')
  if (!layout) throw new IndexXmlError(`${file}: no <VariableLength> (only variable-length CSV is DSFinV-K)`)
  return {
    file,
    name: textOf(element, 'Name') ?? '',
    decimalSymbol: textOf(element, 'DecimalSymbol') ?? ',',
    columnDelimiter: child(layout, 'ColumnDelimiter')?.text ?? ';',
    recordDelimiter: child(layout, 'RecordDelimiter')?.text ?? '\r\n',
    textEncapsulator: child(layout, 'TextEncapsulator')?.text ?? '"',
    firstDataRow: Number(textOf(child(element, 'Range') ?? element, 'From') ?? 1),
    columns: layout.children
      .filter((c) => c.name === 'VariablePrimaryKey' || c.name === 'VariableColumn')
      .map(columnOf),
  }
}

/** The tables index.xml declares, in its order. */
export function readIndexXml(source: string): DeclaredTable[] {
  const document = parseXml(source)
  if (document.name !== 'DataSet')
    throw new IndexXmlError(`root element <${document.name}>, expected <DataSet>`)
  const media = document.children.filter((c) => c.name === 'Media')
  if (media.length === 0) throw new IndexXmlError('no <Media>')
  return media.flatMap((m) => m.children.filter((c) => c.name === 'Table').map(tableOf))
}
