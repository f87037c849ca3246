import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { viennaLocalTime } from '../../../src/markets/at/local-time.ts'

const REFERENCE = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Europe/Vienna',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
})

test('Vienna local time: across summer-time changes, as Intl formats it', () => {
  assert.equal(viennaLocalTime(new Date('2016-03-27T00:59:59Z')), '2016-03-27T01:59:59')
  assert.equal(viennaLocalTime(new Date('2016-03-27T01:00:00Z')), '2016-03-27T03:00:00')
  assert.equal(viennaLocalTime(new Date('2016-10-30T00:59:59Z')), '2016-10-30T02:59:59')
  assert.equal(viennaLocalTime(new Date('2016-10-30T01:00:00Z')), '2016-10-30T02:00:00')
  assert.equal(viennaLocalTime(new Date('2024-12-31T23:30:00.999Z')), '2025-01-01T00:30:00')
  fc.assert(
    fc.property(fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) }), (ms) => {
      const moment = new Date(ms)
      assert.equal(viennaLocalTime(moment), REFERENCE.format(moment).replace(' ', 'T'))
    }),
    { numRuns: 2000 },
  )
})
