import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import {
  caseOf,
  countryCode,
  countryIso,
  countryOf,
  formatCaseCode,
  hasFlag,
  parseCaseCode,
  receiptType,
  v2Code,
  versionOf,
} from '../../src/core/case-codes.ts'
import { FiscalError } from '../../src/core/errors.ts'

const MAX = (1n << 64n) - 1n
const anyCode = fc.bigInt({ min: 0n, max: MAX })

function assertInvalid(run: () => unknown, field: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof FiscalError, `expected a FiscalError, got ${String(error)}`)
    assert.equal(error.details?.field, field)
    return true
  })
}

describe('case codes: 64-bit values in every notation', () => {
  test('formatCaseCode then parseCaseCode is the identity for any 64-bit value', () => {
    fc.assert(
      fc.property(anyCode, (code) => {
        const text = formatCaseCode(code)
        assert.match(text, /^0x[0-9A-F]{16}$/)
        assert.equal(parseCaseCode(text, 'ftReceiptCase'), code)
        assert.equal(parseCaseCode(text.toLowerCase(), 'ftReceiptCase'), code)
      }),
    )
  })

  test('decimal strings, short hex strings and safe JSON numbers denote the same code', () => {
    fc.assert(
      fc.property(anyCode, (code) => {
        assert.equal(parseCaseCode(code.toString(), 'f'), code)
        assert.equal(parseCaseCode(`0x${code.toString(16)}`, 'f'), code)
        if (code <= BigInt(Number.MAX_SAFE_INTEGER)) assert.equal(parseCaseCode(Number(code), 'f'), code)
      }),
    )
    assert.equal(parseCaseCode('4995934546009522177', 'f'), 0x4555200000000001n)
  })

  test('values beyond 64 bits, negative values and other notations are validation errors naming the field', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: MAX + 1n, max: 10n ** 20n - 1n }), (code) => {
        assertInvalid(() => parseCaseCode(code.toString(), 'ftReceiptCase'), 'ftReceiptCase')
      }),
    )
    fc.assert(
      fc.property(fc.bigInt({ min: MAX + 1n, max: (1n << 68n) - 1n }), (code) => {
        assertInvalid(() => parseCaseCode(`0x${code.toString(16)}`, 'f'), 'f')
      }),
    )
    for (const bad of ['0xZZ', '0x', '', ' 1', '-1', '1.0', '1e3', '0b1', '0o7', 'DE', '0x-1']) {
      assertInvalid(() => parseCaseCode(bad, 'f'), 'f')
    }
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, true, null, {}, [], 1n]) {
      assertInvalid(() => parseCaseCode(bad, 'f'), 'f')
    }
  })

  test('anything is either a code or a validation error naming the field', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true }), (value) => {
        try {
          const code = parseCaseCode(value, 'cbPayItems[0].ftPayItemCase')
          assert.ok(code >= 0n && code <= MAX)
        } catch (error) {
          assert.ok(error instanceof FiscalError, `unexpected ${String(error)}`)
          assert.equal(error.details?.field, 'cbPayItems[0].ftPayItemCase')
        }
      }),
    )
  })

  test('the fields CCCC_vlll_gggg_xxxx decompose as they were composed', () => {
    const letter = fc.integer({ min: 65, max: 90 })
    fc.assert(
      fc.property(
        letter,
        letter,
        fc.bigInt({ min: 0n, max: 0xfffn }),
        fc.bigInt({ min: 0n, max: 0xffffn }),
        fc.integer({ min: 0, max: 0xffff }),
        (a, b, local, global, kind) => {
          const iso = String.fromCharCode(a, b)
          const country = countryCode(iso)
          assert.equal(country, (a << 8) | b)
          assert.equal(countryIso(country), iso)
          const code = v2Code(country, (local << 32n) | (global << 16n) | BigInt(kind))
          assert.equal(countryOf(code), country)
          assert.equal(versionOf(code), 2)
          assert.equal(caseOf(code), kind)
          assert.equal(receiptType(code), kind >> 12)
          assert.equal((code >> 16n) & 0xffffn, global)
          assert.equal((code >> 32n) & 0xfffn, local)
          for (let bit = 0n; bit < 16n; bit++) {
            const flag = 1n << (16n + bit)
            assert.equal(hasFlag(code, flag), ((global >> bit) & 1n) === 1n)
          }
        },
      ),
    )
  })

  test('reference examples', () => {
    assert.equal(countryCode('DE'), 0x4445)
    assert.equal(countryCode('AT'), 0x4154)
    assert.equal(countryCode('EU'), 0x4555)
    assert.equal(formatCaseCode(v2Code(0x4954, 0x1n)), '0x4954200000000001')
    assert.equal(caseOf(0x4954200000201002n), 0x1002)
    assert.equal(receiptType(0x4555200000002011n), 2)
    assert.ok(hasFlag(0x4954200000100001n, 0x10_0000n))
    assert.throws(() => countryCode('de'), FiscalError)
  })
})
