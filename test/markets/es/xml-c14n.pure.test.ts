import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runTool } from '../../helpers/system-tools.ts'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { C14N_EXCLUSIVE, C14N_INCLUSIVE, canonicalize } from '../../../src/markets/es/xml/c14n.ts'
import { parseXml } from '../../../src/markets/es/xml/parse.ts'
import { serializeDocument } from '../../../src/markets/es/xml/serialize.ts'
import type { XmlElement, XmlNode } from '../../../src/markets/es/xml/tree.ts'

/** Canonical form of a whole document by libxml2 (xmllint --c14n / --exc-c14n), the independent reference. */
function xmllintC14n(xml: string, exclusive: boolean): string {
  const file = join(mkdtempSync(join(tmpdir(), 'c14n-')), 'doc.xml')
  writeFileSync(file, xml)
  const run = runTool('xmllint', [exclusive ? '--exc-c14n' : '--c14n', file])
  assert.ok(run.ok, run.stderr)
  return run.stdout
}

const TEXT = fc.string({
  maxLength: 12,
  unit: fc.constantFrom('a', 'Z', ' ', '&', '<', '>', '"', "'", '\t', '\n', '\r', 'é', '€', '1'),
})
const NAME = fc.constantFrom('p', 'q', 'r')

/** Random namespace-well-formed trees: prefixes a and b declared on the root, re-declared at random below. */
const tree = fc.letrec<{ node: XmlElement }>((tie) => ({
  node: fc
    .record({
      prefix: fc.constantFrom('', 'a', 'b'),
      local: NAME,
      redeclare: fc.subarray([
        ['xmlns:a', 'urn:a2'],
        ['xmlns:b', 'urn:b1'],
        ['xmlns', 'urn:d1'],
        ['xmlns', ''],
      ] as Array<[string, string]>),
      attributes: fc.uniqueArray(fc.tuple(fc.constantFrom('x', 'y', 'a:x', 'b:x', 'a:z'), TEXT), {
        maxLength: 3,
        selector: ([name]) => name.replace(/^.*:/, ''),
      }),
      children: fc.array(
        fc.oneof(
          { weight: 1, arbitrary: TEXT.filter((t) => t.length > 0) },
          { weight: 1, arbitrary: tie('node') },
        ),
        {
          maxLength: 3,
          depthIdentifier: 'tree',
        },
      ),
    })
    .map(({ prefix, local, redeclare, attributes, children }) => ({
      name: prefix ? `${prefix}:${local}` : local,
      attributes: [...new Map(redeclare).entries(), ...attributes],
      children: mergeText(children as XmlNode[]),
    })),
})).node

function mergeText(children: XmlNode[]): XmlNode[] {
  const merged: XmlNode[] = []
  for (const c of children) {
    const last = merged[merged.length - 1]
    if (typeof c === 'string' && typeof last === 'string') merged[merged.length - 1] = last + c
    else merged.push(c)
  }
  return merged
}

const documentOf = (root: XmlElement): XmlElement => ({
  ...root,
  attributes: [
    ['xmlns:a', 'urn:a1'],
    ['xmlns:b', 'urn:b2'],
    ...root.attributes.filter(([k]) => k !== 'xmlns:a' && k !== 'xmlns:b'),
  ],
})

describe('XML parser, serializer and C14N', () => {
  it('property: inclusive and exclusive C14N of whole documents equal libxml2', () => {
    fc.assert(
      fc.property(tree, (generated) => {
        const root = documentOf(generated)
        const xml = serializeDocument(root)
        const parsed = parseXml(xml)
        assert.equal(canonicalize(parsed, parsed, C14N_INCLUSIVE), xmllintC14n(xml, false))
        assert.equal(canonicalize(parsed, parsed, C14N_EXCLUSIVE), xmllintC14n(xml, true))
      }),
      { numRuns: 60 },
    )
  })

  it('property: parse(serialize(tree)) gives the tree back', () => {
    fc.assert(
      fc.property(tree, (generated) => {
        const root = documentOf(generated)
        assert.deepEqual(parseXml(serializeDocument(root)), root)
      }),
      { numRuns: 200 },
    )
  })

  it('reads what other writers write: CDATA, comments, references, single quotes, CRLF, self-closing tags', () => {
    const doc = parseXml(
      "<?xml version='1.0'?>\r\n<!-- c --><r a='1 &amp; &#x32;'\r\n b=\"x\ty\"><e/><![CDATA[<&>]]>&lt;&#233;<?pi x?></r>",
    )
    assert.deepEqual(doc, {
      name: 'r',
      attributes: [
        ['a', '1 & 2'],
        ['b', 'x y'],
      ],
      children: [{ name: 'e', attributes: [], children: [] }, '<&><é'],
    })
  })

  it('refuses what it must not read: DOCTYPE (entity expansion), mismatched tags, bare &, duplicate attributes', () => {
    assert.throws(() => parseXml('<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'), /DOCTYPE/)
    assert.throws(() => parseXml('<r><a></b></r>'), /closes/)
    assert.throws(() => parseXml('<r>a & b</r>'), /bare &/)
    assert.throws(() => parseXml('<r a="1" a="2"/>'), /duplicate attribute/)
    assert.throws(() => parseXml('<r/><s/>'), /after the document element/)
    assert.throws(() => parseXml('<r>&#0;</r>'), /not an XML character/)
    assert.throws(() => parseXml('<r>&#x110000;</r>'), /not an XML character/)
  })
})
