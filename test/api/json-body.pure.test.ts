import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { parseJsonBody, rejectInvalidUtf8 } from '../../src/api/json-body.ts'
import { FiscalError } from '../../src/core/errors.ts'

/** What parseJsonBody promises: JSON.parse, except that integers written with 16+ digits keep them as text. */
function expected(value: unknown): unknown {
  if (typeof value === 'number') {
    const text = JSON.stringify(value)
    return /^-?\d{16,}$/.test(text) ? text : value
  }
  if (Array.isArray(value)) return value.map(expected)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expected(v)]))
  }
  return value
}

function assertBodyError(run: () => unknown): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof FiscalError, `expected a FiscalError, got ${String(error)}`)
    assert.equal(error.details?.field, 'body')
    return true
  })
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })
const isUtf8 = (bytes: Uint8Array): boolean => {
  try {
    strictUtf8.decode(bytes)
    return true
  } catch {
    return false
  }
}

describe('JSON bodies', () => {
  test('any JSON text parses to its value, with long integers kept as exact digit strings', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined)
        assert.deepStrictEqual(parseJsonBody(text), expected(JSON.parse(text)))
      }),
      { numRuns: 500 },
    )
  })

  test('numbers with long fractions or exponents are numbers, not broken text', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^-?(0|[1-9]\d{0,20})\.\d{14,30}([eE][+-]?\d{1,3})?$/), (number) => {
        const text = `{"Amount":${number},"n":[${number}]}`
        const parsed = parseJsonBody(text) as { Amount: unknown; n: unknown[] }
        assert.equal(parsed.Amount, JSON.parse(number))
        assert.deepEqual(parsed.n, [JSON.parse(number)])
      }),
    )
    assert.deepEqual(parseJsonBody('[0.1000000000000000000,1e-1234567890123456,1E+1234567890123456]'), [
      0.1,
      0,
      Infinity,
    ])
  })

  test('a 64-bit case code sent as a bare number keeps every digit', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 10n ** 15n, max: (1n << 64n) - 1n }), fc.boolean(), (code, negative) => {
        const digits = `${negative ? '-' : ''}${code}`
        const parsed = parseJsonBody(`{"ftReceiptCase": ${digits}, "s": "${digits}", "list": [${digits}]}`)
        assert.deepEqual(parsed, { ftReceiptCase: digits, s: digits, list: [digits] })
      }),
    )
    assert.deepEqual(parseJsonBody('{"ftReceiptCase":4995934546009522177}'), {
      ftReceiptCase: '4995934546009522177',
    })
    // Inside strings nothing changes, escaped quotes included.
    assert.deepEqual(parseJsonBody('{"a":"x\\"1234567890123456789\\"y"}'), { a: 'x"1234567890123456789"y' })
  })

  test('anything that is not JSON is a validation error on the body', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        let valid = true
        try {
          JSON.parse(text)
        } catch {
          valid = false
        }
        if (valid) parseJsonBody(text)
        else assertBodyError(() => parseJsonBody(text))
      }),
    )
  })

  test('nesting is limited to 32 levels', () => {
    assert.deepEqual(
      parseJsonBody(`${'['.repeat(32)}${']'.repeat(32)}`),
      JSON.parse(`${'['.repeat(32)}${']'.repeat(32)}`),
    )
    assertBodyError(() => parseJsonBody(`${'['.repeat(34)}${']'.repeat(34)}`))
    assertBodyError(() => parseJsonBody(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`))
  })

  test('a member named twice in one object is refused, naming its path; the same name in two objects is not', () => {
    const duplicateAt = (text: string) => {
      try {
        parseJsonBody(text)
        return undefined
      } catch (error) {
        assert.ok(error instanceof FiscalError)
        return error.details?.field
      }
    }
    // A sale, then a stop receipt: JSON.parse would read the stop receipt, a first-wins parser the sale.
    assert.equal(
      duplicateAt(
        '{"ftReceiptCase":"0x4555200000000001","cbChargeItems":[],"ftReceiptCase":"0x4555200000000003"}',
      ),
      'ftReceiptCase',
    )
    assert.equal(
      duplicateAt('{"cbChargeItems":[{"Amount":1},{"Amount":2,"Amount":3}]}'),
      'cbChargeItems[1].Amount',
    )
    assert.equal(duplicateAt('{"a":{"b":1},"c":[[{"d":"}]\\",\\"e\\":","e":2}]]}'), undefined)
    assert.equal(duplicateAt('{"a":[{"x":1},{"x":1}],"b":{"x":1},"x":1}'), undefined)
    // Escapes spell the same name differently.
    assert.equal(duplicateAt('{"id":1,"\\u0069d":2}'), 'id')
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1 }),
        fc.nat(),
        (object, pick) => {
          const keys = Object.keys(object)
          const key = keys[pick % keys.length] as string
          const text = JSON.stringify(object)
          assert.equal(duplicateAt(text), undefined)
          assert.equal(duplicateAt(`${text.slice(0, -1)},${JSON.stringify(key)}:null}`), key || 'body')
        },
      ),
    )
  })

  test('bytes are accepted exactly when they are UTF-8', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const buffer = Buffer.from(bytes)
        if (isUtf8(buffer)) assert.equal(rejectInvalidUtf8(buffer), buffer.toString('utf8'))
        else assertBodyError(() => rejectInvalidUtf8(buffer))
      }),
      { numRuns: 1000 },
    )
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        assert.equal(rejectInvalidUtf8(Buffer.from(text, 'utf8')), text)
      }),
    )
  })

  test('an invalid byte is refused even when the text also holds a real U+FFFD', () => {
    const valid = Buffer.from('{"a":"\uFFFD","b":"x"}', 'utf8')
    assert.equal(rejectInvalidUtf8(valid), '{"a":"\uFFFD","b":"x"}')
    const invalid = Buffer.from(valid)
    invalid[invalid.indexOf('x')] = 0xff
    assert.equal(isUtf8(invalid), false)
    assertBodyError(() => rejectInvalidUtf8(invalid))
  })
})
