import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { backoffDelay } from '../../src/jobs/backoff.ts'

void test('backoff: between half and all of min(max, base * 2^(attempt-1)), whatever the jitter', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 200 }),
      fc.integer({ min: 1, max: 10_000 }),
      fc.integer({ min: 1, max: 10_000_000 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (attempt, baseMs, extra, random) => {
        const maxMs = baseMs + extra
        const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1))
        const delay = backoffDelay(attempt, { baseMs, maxMs }, () => random)
        assert.ok(delay >= Math.floor(ceiling / 2) && delay <= Math.ceil(ceiling), `${delay} for ${ceiling}`)
      },
    ),
  )
})

void test('backoff grows with the attempt until the cap (at the same jitter)', () => {
  const settings = { baseMs: 1000, maxMs: 60_000 }
  const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, settings, () => 0.5))
  assert.deepEqual(delays, [750, 1500, 3000, 6000, 12000, 24000, 45000, 45000])
})
