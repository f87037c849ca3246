import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { timeOrderedId } from '../../src/core/time-ordered-id.ts'

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('timeOrderedId', () => {
  it('is a UUID version 7 whose first 48 bits are the milliseconds (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (ms) => {
        const id = timeOrderedId(ms)
        assert.match(id, UUID_V7)
        assert.equal(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16), ms)
      }),
    )
  })

  it('sorts by time across milliseconds, and does not repeat', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => timeOrderedId(1_700_000_000_000 + Math.floor(i / 10)))
    for (let i = 10; i < ids.length; i += 10) {
      assert.ok((ids[i - 1] as string) < (ids[i] as string), `${ids[i - 1]} < ${ids[i]}`)
    }
    assert.equal(new Set(ids).size, ids.length)
  })
})
