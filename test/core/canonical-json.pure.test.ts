import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { canonicalJson, sha256Hex } from '../../src/core/canonical-json.ts'

/** The same value with the keys of every object in an order drawn from `order`. */
function shuffled(value: unknown, order: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffled(v, order))
  if (value === null || typeof value !== 'object') return value
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => [k, shuffled(v, order)] as const,
  )
  for (let i = entries.length - 1; i > 0; i--) {
    const j = order() % (i + 1)
    ;[entries[i], entries[j]] = [
      entries[j] as (typeof entries)[number],
      entries[i] as (typeof entries)[number],
    ]
  }
  // fromEntries defines own properties, "__proto__" included.
  return Object.fromEntries(entries)
}

/** A deterministic stream of numbers for shuffling, from a seed fast-check chooses (and can shrink). */
const orderFrom = (seed: number) => {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return state >>> 0
  }
}

const json = fc.jsonValue({ maxDepth: 5 })

describe('canonical JSON', () => {
  test('the key order of the input does not change the canonical text', () => {
    fc.assert(
      fc.property(json, fc.integer(), (value, seed) => {
        assert.equal(canonicalJson(shuffled(value, orderFrom(seed))), canonicalJson(value))
      }),
    )
  })

  test('the canonical text is JSON of the same value', () => {
    fc.assert(
      fc.property(json, (value) => {
        const text = canonicalJson(value)
        assert.deepStrictEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)))
        assert.equal(canonicalJson(JSON.parse(text)), text, 'canonical text is a fixed point')
      }),
    )
  })

  test('an object is its members in sorted key order, without white space', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), json, { maxKeys: 8 }), (value) => {
        const members = Object.keys(value)
          .sort()
          .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`)
        assert.equal(canonicalJson(value), `{${members.join(',')}}`)
      }),
    )
    assert.equal(
      canonicalJson({ b: 1, a: [{ d: 1, c: 2 }], c: { z: null, y: 'x' }, 10: 0, 9: 0 }),
      '{"10":0,"9":0,"a":[{"c":2,"d":1}],"b":1,"c":{"y":"x","z":null}}',
    )
  })

  test('different values have different canonical texts', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        const same =
          JSON.stringify(JSON.parse(canonicalJson(a))) === JSON.stringify(JSON.parse(canonicalJson(b)))
        assert.equal(canonicalJson(a) === canonicalJson(b), same)
      }),
    )
    assert.notEqual(canonicalJson({ a: '1' }), canonicalJson({ a: 1 }))
    assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]))
  })

  test('undefined members are left out, like JSON.stringify does', () => {
    assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}')
    assert.equal(canonicalJson(undefined), 'null')
  })

  test('sha256Hex is the hex SHA-256 of the UTF-8 text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        assert.equal(sha256Hex(text), createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'))
      }),
    )
  })
})
