import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatDecimal, parseDecimal } from '../../src/core/money.ts'

test('decimal round trip', () => {
  assert.equal(formatDecimal(parseDecimal(172, 'x')), '172.00')
})
