import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { charactersOf, clipped, RECEIPT_COLUMNS } from '../../../src/markets/de/dsfinvk/limits.ts'

/**
 * The text fiscalbox composes itself for DSFinV-K (TSE_TA_FEHLER: why the TSE did not sign, which can carry
 * a remote TSE's message) is cut to its column, counted in code points, never inside a surrogate pair.
 */
const codePoint = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.integer({ min: 0xa0, max: 0xd7ff }),
  fc.integer({ min: 0x10000, max: 0x10ffff }),
)
const column = RECEIPT_COLUMNS.tseError

test('clipped text fits its column, keeps what fits, and cuts whole characters only', () => {
  assert.equal(column.maxLength, 200, 'TSE_TA_FEHLER is AlphaNumeric 200 (DSFinV-K 2.3)')
  fc.assert(
    fc.property(fc.array(codePoint, { maxLength: 400 }), (points) => {
      const value = String.fromCodePoint(...points)
      const cut = clipped(value, column)
      assert.equal(charactersOf(value), points.length)
      if (points.length <= column.maxLength) return assert.equal(cut, value)
      assert.equal(charactersOf(cut), column.maxLength)
      assert.ok(cut.endsWith('…'))
      assert.equal(cut.slice(0, -1), String.fromCodePoint(...points.slice(0, column.maxLength - 1)))
      assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(cut))
    }),
  )
})
