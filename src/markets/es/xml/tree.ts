/**
 * A small XML element tree, enough for the documents fiscalbox writes and reads for Spain. Namespace
 * declarations are kept as ordinary `xmlns`/`xmlns:p` attributes where they were written, so a document
 * can be canonicalized exactly as a verifier will see it after parsing.
 */
export interface XmlElement {
  /** Qualified name as written, e.g. `ds:Signature` or `Cabecera`. */
  name: string
  /** Attributes in document order, namespace declarations included. */
  attributes: Array<[string, string]>
  children: XmlNode[]
}

export type XmlNode = XmlElement | string

export type Child = XmlNode | null | undefined | false | Child[]

/** Builds an element; null/undefined/false children are dropped so optional parts read naturally. */
export function el(
  name: string,
  attributes: Record<string, string> | null,
  ...children: Child[]
): XmlElement {
  const flat: XmlNode[] = []
  for (const child of children) flatten(child, flat)
  return { name, attributes: attributes ? Object.entries(attributes) : [], children: flat }
}

/**
 * Not a closure inside el: every record's XML calls el some fifty times, and under tsx each closure made
 * costs a defineProperty for its name (the /v2/sign profile showed it beside el itself).
 */
function flatten(child: Child, into: XmlNode[]): void {
  if (child === null || child === undefined || child === false) return
  if (Array.isArray(child)) for (const c of child) flatten(c, into)
  else into.push(child)
}

/** An element holding one text value, or nothing at all when the value is absent. */
export function leaf(name: string, value: string | undefined | null): XmlElement | null {
  return value === undefined || value === null ? null : el(name, null, value)
}

export const isElement = (node: XmlNode): node is XmlElement => typeof node !== 'string'

export function localName(name: string): string {
  const colon = name.indexOf(':')
  return colon < 0 ? name : name.slice(colon + 1)
}

export function prefixOf(name: string): string {
  const colon = name.indexOf(':')
  return colon < 0 ? '' : name.slice(0, colon)
}

export function attribute(element: XmlElement, name: string): string | undefined {
  for (const [key, value] of element.attributes) if (key === name) return value
  return undefined
}

/** Child elements, optionally only those with the given local name (namespace prefixes ignored). */
export function childElements(element: XmlElement, local?: string): XmlElement[] {
  return element.children.filter(
    (c): c is XmlElement => isElement(c) && (local === undefined || localName(c.name) === local),
  )
}

/** The first child element with the local name; a loop, as every field of an answer is read through it. */
export function child(element: XmlElement, local: string): XmlElement | undefined {
  for (const c of element.children) if (isElement(c) && localName(c.name) === local) return c
  return undefined
}

/** Follows a path of local names, e.g. `childAt(env, 'Body', 'RespuestaRegFactuSistemaFacturacion')`. */
export function childAt(element: XmlElement, ...path: string[]): XmlElement | undefined {
  let current: XmlElement | undefined = element
  for (const step of path) {
    if (!current) return undefined
    current = child(current, step)
  }
  return current
}

export function textOf(element: XmlElement | undefined): string | undefined {
  if (!element) return undefined
  return element.children.filter((c): c is string => typeof c === 'string').join('')
}

/** Text of a child found by a path of local names. */
export function textAt(element: XmlElement, ...path: string[]): string | undefined {
  return textOf(childAt(element, ...path))
}

/** Depth-first search for the first element (the start included) that matches. */
export function findElement(
  start: XmlElement,
  match: (element: XmlElement) => boolean,
): XmlElement | undefined {
  if (match(start)) return start
  for (const c of start.children) {
    if (!isElement(c)) continue
    const found = findElement(c, match)
    if (found) return found
  }
  return undefined
}

/** The chain of elements from root down to target (both included), or undefined if target is not inside. */
export function pathTo(root: XmlElement, target: XmlElement): XmlElement[] | undefined {
  if (root === target) return [root]
  for (const c of root.children) {
    if (!isElement(c)) continue
    const path = pathTo(c, target)
    if (path) return [root, ...path]
  }
  return undefined
}

/** The namespace URI of the last element of a root-to-element path ('' when it has none). */
export function namespaceOf(path: XmlElement[]): string {
  const last = path[path.length - 1]
  if (!last) return ''
  const prefix = prefixOf(last.name)
  const key = prefix === '' ? 'xmlns' : `xmlns:${prefix}`
  for (let i = path.length - 1; i >= 0; i--) {
    const value = attribute(path[i] as XmlElement, key)
    if (value !== undefined) return value
  }
  return ''
}
