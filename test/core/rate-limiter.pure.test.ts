import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { RateLimiter } from '../../src/core/rate-limiter.ts'

describe('RateLimiter', () => {
  it('allows a burst of capacity, then refuses with the time until the next token', () => {
    const limiter = new RateLimiter({ capacity: 3, refillPerSecond: 0.5 })
    const decisions = [0, 0, 0, 0].map(() => limiter.take('k', 1_000))
    assert.deepEqual(
      decisions.map((d) => d.allowed),
      [true, true, true, false],
    )
    assert.deepEqual(decisions[3], {
      allowed: false,
      limit: 3,
      remaining: 0,
      resetSeconds: 6,
      retryAfterSeconds: 2,
    })
    assert.equal(limiter.take('k', 2_999).allowed, false)
    assert.equal(limiter.take('k', 3_000).allowed, true)
  })

  it('peek tells whether a key could spend, without spending and without storing new keys', () => {
    const limiter = new RateLimiter({ capacity: 2, refillPerSecond: 1, maxKeys: 1 })
    assert.equal(limiter.peek('a', 0).allowed, true)
    assert.equal(limiter.take('b', 0).allowed, true)
    // 'a' was not stored by peek, so 'b' (the only key room allows) is still remembered.
    assert.equal(limiter.take('b', 0).allowed, true)
    assert.equal(limiter.peek('b', 0).allowed, false)
    assert.equal(limiter.peek('b', 0).retryAfterSeconds, 1)
    assert.equal(limiter.take('b', 0).allowed, false)
    assert.equal(limiter.peek('b', 1_000).allowed, true)
  })

  it('keeps keys apart and forgets a key on reset', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1 })
    assert.equal(limiter.take('a', 0).allowed, true)
    assert.equal(limiter.take('a', 0).allowed, false)
    assert.equal(limiter.take('b', 0).allowed, true)
    limiter.reset('a')
    assert.equal(limiter.take('a', 0).allowed, true)
  })

  it('never allows more than capacity + elapsed * rate requests (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 200 }),
        (capacity, rate, gaps) => {
          const limiter = new RateLimiter({ capacity, refillPerSecond: rate })
          let now = 0
          let allowed = 0
          for (const gap of gaps) {
            now += gap
            if (limiter.take('k', now).allowed) allowed++
          }
          return allowed <= capacity + Math.floor((now / 1000) * rate)
        },
      ),
    )
  })

  it('bounds memory by forgetting the least recently used key', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 0.001, maxKeys: 2 })
    limiter.take('a', 0)
    limiter.take('b', 0)
    limiter.take('a', 0)
    limiter.take('c', 0)
    // b was the least recently used: forgotten, so it starts full again; a is still spent.
    assert.equal(limiter.take('a', 0).allowed, false)
    assert.equal(limiter.take('b', 0).allowed, true)
  })
})
