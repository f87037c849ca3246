import { escapeAttribute, escapeText } from './serialize.ts'
import { type XmlElement, isElement, localName, pathTo, prefixOf } from './tree.ts'

export const C14N_INCLUSIVE = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315'
export const C14N_EXCLUSIVE = 'http://www.w3.org/2001/10/xml-exc-c14n#'
export type C14nMethod = typeof C14N_INCLUSIVE | typeof C14N_EXCLUSIVE

/** Namespace prefix -> URI; '' is the default namespace ('' as URI means "no default namespace"). */
type Scope = ReadonlyMap<string, string>

function declarationsOf(element: XmlElement): Map<string, string> {
  const declared = new Map<string, string>()
  for (const [key, value] of element.attributes) {
    if (key === 'xmlns') declared.set('', value)
    else if (key.startsWith('xmlns:')) declared.set(key.slice(6), value)
  }
  return declared
}

function extend(scope: Scope, element: XmlElement): Scope {
  const declared = declarationsOf(element)
  if (declared.size === 0) return scope
  const next = new Map(scope)
  for (const [prefix, uri] of declared) next.set(prefix, uri)
  return next
}

/**
 * Canonical XML without comments, inclusive (C14N 1.0) or exclusive (Exc-C14N without an
 * InclusiveNamespaces prefix list), of the subtree at `target` inside the document `root`, leaving out
 * every element for which `exclude` is true (the enveloped-signature transform).
 *
 * Scope of this implementation: element trees as parseXml/el build them (no comments, no processing
 * instructions, no DTD-defaulted attributes). xml:* attributes inherited from ancestors outside the
 * subset are not imported (the Spanish documents carry none); they are rejected rather than mishandled.
 */
export function canonicalize(
  root: XmlElement,
  target: XmlElement,
  method: C14nMethod,
  exclude: (element: XmlElement) => boolean = () => false,
): string {
  const path = pathTo(root, target)
  if (!path) throw new Error('canonicalize: target is not inside root')
  let scope: Scope = new Map([['xml', 'http://www.w3.org/XML/1998/namespace']])
  for (const ancestor of path.slice(0, -1)) {
    if (ancestor.attributes.some(([key]) => key.startsWith('xml:')))
      throw new Error('canonicalize: xml:* attributes on ancestors are not supported')
    scope = extend(scope, ancestor)
  }
  const out: string[] = []
  // Nothing is rendered above the apex: every in-scope namespace the method asks for appears on it.
  render(target, scope, new Map([['', '']]), method, exclude, out)
  return out.join('')
}

function render(
  element: XmlElement,
  parentScope: Scope,
  rendered: Scope,
  method: C14nMethod,
  exclude: (element: XmlElement) => boolean,
  out: string[],
): void {
  if (exclude(element)) return
  const scope = extend(parentScope, element)
  const wanted = new Map<string, string>()
  if (method === C14N_INCLUSIVE) {
    for (const [prefix, uri] of scope) if (prefix !== 'xml') wanted.set(prefix, uri)
  } else {
    const used = new Set<string>([prefixOf(element.name)])
    for (const [key] of element.attributes)
      if (key !== 'xmlns' && !key.startsWith('xmlns:') && key.includes(':')) used.add(prefixOf(key))
    for (const prefix of used) {
      if (prefix === 'xml') continue
      const uri = scope.get(prefix)
      if (uri === undefined && prefix !== '') throw new Error(`canonicalize: undeclared prefix ${prefix}`)
      wanted.set(prefix, uri ?? '')
    }
  }
  const namespaces: Array<[string, string]> = []
  for (const [prefix, uri] of wanted) {
    const already = rendered.get(prefix) ?? (prefix === '' ? '' : undefined)
    if (already === uri) continue
    // xmlns="" only undoes a default namespace that an output ancestor rendered.
    if (prefix === '' && uri === '' && (rendered.get('') ?? '') === '') continue
    namespaces.push([prefix, uri])
  }
  namespaces.sort((a, b) => compare(a[0], b[0]))
  const attributes = element.attributes
    .filter(([key]) => key !== 'xmlns' && !key.startsWith('xmlns:'))
    .map(([key, value]) => {
      const prefix = prefixOf(key)
      const uri = prefix === '' ? '' : (scope.get(prefix) ?? '')
      return { key, value, uri, local: localName(key) }
    })
    .sort((a, b) => compare(a.uri, b.uri) || compare(a.local, b.local))

  out.push('<', element.name)
  for (const [prefix, uri] of namespaces)
    out.push(prefix === '' ? ' xmlns="' : ` xmlns:${prefix}="`, escapeAttribute(uri), '"')
  for (const a of attributes) out.push(' ', a.key, '="', escapeAttribute(a.value), '"')
  out.push('>')
  let childRendered = rendered
  if (namespaces.length > 0) {
    const next = new Map(rendered)
    for (const [prefix, uri] of namespaces) next.set(prefix, uri)
    childRendered = next
  }
  for (const c of element.children) {
    if (isElement(c)) render(c, scope, childRendered, method, exclude, out)
    else out.push(escapeText(c))
  }
  out.push('</', element.name, '>')
}

// Code-point order, as C14N asks (UCS code points, not locale collation).
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
