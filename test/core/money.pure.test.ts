import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { FiscalError } from '../../src/core/errors.ts'
import { formatDecimal, parseDecimal } from '../../src/core/money.ts'

const SCALE = 1_000_000n
/** The largest amount parseDecimal accepts: 10^13 currency units. */
const LIMIT = 10n ** 13n * SCALE
const micros = fc.bigInt({ min: -LIMIT, max: LIMIT })

/** Asserts that `run` throws a validation error naming `field`, and nothing else. */
function assertInvalid(run: () => unknown, field: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof FiscalError, `expected a FiscalError, got ${String(error)}`)
    assert.equal(error.details?.field, field)
    return true
  })
}

describe('money: exact decimals as micro-units', () => {
  test('formatDecimal then parseDecimal is the identity on micro-units', () => {
    fc.assert(
      fc.property(micros, (m) => {
        assert.equal(parseDecimal(formatDecimal(m), 'x'), m)
      }),
    )
  })

  test('formatDecimal writes 2 to 6 decimals and no trailing zero beyond the second', () => {
    fc.assert(
      fc.property(micros, (m) => {
        const text = formatDecimal(m)
        assert.match(text, /^-?(0|[1-9]\d*)\.\d{2,6}$/)
        const fraction = text.split('.')[1] as string
        if (fraction.length > 2) assert.notEqual(fraction.at(-1), '0')
        assert.equal(text.startsWith('-'), m < 0n)
      }),
    )
  })

  test('the text of any decimal with up to 6 places parses to its exact value', () => {
    fc.assert(
      fc.property(micros, fc.integer({ min: 0, max: 6 }), (m, places) => {
        // Truncate m to `places` decimals and write it with exactly that many, as a POS would.
        const step = 10n ** BigInt(6 - places)
        const value = (m / step) * step
        const abs = value < 0n ? -value : value
        const fraction = (abs % SCALE).toString().padStart(6, '0').slice(0, places)
        const text = `${value < 0n ? '-' : ''}${abs / SCALE}${places ? `.${fraction}` : ''}`
        assert.equal(parseDecimal(text, 'x'), value, text)
      }),
    )
  })

  test('a JSON number of cents is read as the decimal the POS wrote, not as the nearest double', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(10 ** 15 - 1), max: 10 ** 15 - 1 }), (cents) => {
        assert.equal(parseDecimal(cents / 100, 'x'), BigInt(cents) * 10_000n)
      }),
    )
  })

  test('sums of parsed amounts are exact where sums of doubles are not', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { maxLength: 50 }), (cents) => {
        const exact = cents.reduce((sum, c) => sum + parseDecimal(c / 100, 'x'), 0n)
        assert.equal(exact, BigInt(cents.reduce((a, b) => a + b, 0)) * 10_000n)
        assert.equal(parseDecimal(formatDecimal(exact), 'x'), exact)
      }),
    )
    assert.equal(parseDecimal(0.1, 'x') + parseDecimal(0.2, 'x'), parseDecimal(0.3, 'x'))
    assert.notEqual(0.1 + 0.2, 0.3)
  })

  test('a decimal string with blanks, a plus sign or an exponent is refused, naming the field', () => {
    for (const text of ['1e2', '1E2', ' 1', '1 ', '+1', '\t1', '1.', '.5', '', ' ', '0x10', '1_000', 'NaN'])
      assertInvalid(() => parseDecimal(text, 'cbChargeItems[0].Amount'), 'cbChargeItems[0].Amount')
    fc.assert(
      fc.property(micros, fc.constantFrom(' ', '\n', '+', 'e0', 'E-0'), fc.boolean(), (m, bend, before) => {
        const text = formatDecimal(m)
        const bent =
          before && !bend.startsWith('e') && !bend.startsWith('E') ? `${bend}${text}` : `${text}${bend}`
        assertInvalid(() => parseDecimal(bent, 'Amount'), 'Amount')
      }),
    )
  })

  test('a JSON number that JavaScript writes with an exponent is exact: 1.5e3, 1e-6, 1e+21', () => {
    assert.equal(parseDecimal(1.5e3, 'x'), 1_500_000_000n)
    assert.equal(parseDecimal(1e-6, 'x'), 1n)
    assertInvalid(() => parseDecimal(1e-7, 'x'), 'x')
    assertInvalid(() => parseDecimal(1e21, 'x'), 'x')
  })

  test('a seventh significant decimal is refused, trailing zeros are not', () => {
    fc.assert(
      fc.property(micros, fc.integer({ min: 1, max: 9 }), fc.nat({ max: 20 }), (m, digit, zeros) => {
        const abs = m < 0n ? -m : m
        const six = `${m < 0n ? '-' : ''}${abs / SCALE}.${(abs % SCALE).toString().padStart(6, '0')}`
        assert.equal(parseDecimal(`${six}${'0'.repeat(zeros)}`, 'x'), m)
        assertInvalid(() => parseDecimal(`${six}${'0'.repeat(zeros)}${digit}`, 'a.b'), 'a.b')
      }),
    )
  })

  test('amounts beyond 10^13 are refused', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: LIMIT + 1n, max: LIMIT * 1000n }), fc.boolean(), (m, negative) => {
        assertInvalid(() => parseDecimal(formatDecimal(negative ? -m : m), 'Amount'), 'Amount')
      }),
    )
    assert.equal(parseDecimal('10000000000000', 'x'), LIMIT)
    assert.equal(parseDecimal('-10000000000000', 'x'), -LIMIT)
  })

  test('anything else is a validation error naming the field, never another exception', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withBoxedValues: true, withMap: true }), (value) => {
        try {
          const result = parseDecimal(value, 'cbChargeItems[3].Amount')
          assert.equal(typeof result, 'bigint')
          assert.ok(typeof value === 'number' || typeof value === 'string')
        } catch (error) {
          assert.ok(error instanceof FiscalError, `unexpected ${String(error)}`)
          assert.equal(error.details?.field, 'cbChargeItems[3].Amount')
        }
      }),
    )
    for (const bad of ['NaN', 'Infinity', '-Infinity', '', ' ', '0x10', '1,5', '1.2.3', '--1', '1e', '.5.']) {
      assertInvalid(() => parseDecimal(bad, 'f'), 'f')
    }
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, true, null, undefined, {}, [], 1n]) {
      assertInvalid(() => parseDecimal(bad, 'f'), 'f')
    }
  })

  test('a few fixed points', () => {
    assert.equal(formatDecimal(172_000_000n), '172.00')
    assert.equal(formatDecimal(-1n), '-0.000001')
    assert.equal(formatDecimal(0n), '0.00')
    assert.equal(formatDecimal(-500_000n), '-0.50')
    assert.equal(parseDecimal('12.50', 'x'), 12_500_000n)
    assert.equal(parseDecimal('-0', 'x'), 0n)
    assert.equal(parseDecimal(1e-6, 'x'), 1n)
    assert.equal(parseDecimal(122.0, 'x'), 122_000_000n)
  })
})
