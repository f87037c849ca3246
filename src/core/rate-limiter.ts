/**
 * Keyed token buckets: each key (an API key, a client address) may spend `capacity` requests at once and
 * regains `refillPerSecond`. Memory is bounded: past `maxKeys` the least recently used key is forgotten,
 * which only ever gives that key a full bucket again, never fewer requests than it is owed.
 */
export interface RateLimitDecision {
  allowed: boolean
  limit: number
  /** Whole requests left after this one. */
  remaining: number
  /** Seconds until the bucket is full again (X-RateLimit-Reset). */
  resetSeconds: number
  /** Seconds until one request is allowed again; 0 when allowed (Retry-After). */
  retryAfterSeconds: number
}

export interface RateLimitOptions {
  capacity: number
  refillPerSecond: number
  maxKeys?: number
}

interface Bucket {
  tokens: number
  at: number
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>()
  private readonly maxKeys: number

  constructor(private readonly options: RateLimitOptions) {
    if (!(options.capacity >= 1) || !(options.refillPerSecond > 0)) {
      throw new Error('a rate limit needs capacity >= 1 and refillPerSecond > 0')
    }
    this.maxKeys = options.maxKeys ?? 100_000
  }

  /** Spends one token of `key` if it has one; `now` is in milliseconds. */
  take(key: string, now: number = Date.now()): RateLimitDecision {
    const bucket = this.refilled(key, now)
    const allowed = bucket.tokens >= 1
    if (allowed) bucket.tokens -= 1
    return this.decision(allowed, bucket.tokens)
  }

  /**
   * Whether `key` could spend a token now, without spending it. A key never seen is not stored: a gate that
   * peeks on every request must not fill the map with sources that never failed.
   */
  peek(key: string, now: number = Date.now()): RateLimitDecision {
    const { capacity } = this.options
    if (!this.buckets.has(key)) {
      return { allowed: true, limit: capacity, remaining: capacity, resetSeconds: 0, retryAfterSeconds: 0 }
    }
    const bucket = this.refilled(key, now)
    const allowed = bucket.tokens >= 1
    return this.decision(allowed, bucket.tokens)
  }

  /** Forgets a key, e.g. after a successful login ends a run of failures. */
  reset(key: string): void {
    this.buckets.delete(key)
  }

  /** The answer for a bucket holding `tokens` after the request was (or would be) counted. */
  private decision(allowed: boolean, tokens: number): RateLimitDecision {
    const { capacity, refillPerSecond } = this.options
    return {
      allowed,
      limit: capacity,
      remaining: Math.floor(tokens),
      resetSeconds: Math.ceil((capacity - tokens) / refillPerSecond),
      retryAfterSeconds: allowed ? 0 : Math.ceil((1 - tokens) / refillPerSecond),
    }
  }

  private refilled(key: string, now: number): Bucket {
    const { capacity, refillPerSecond } = this.options
    let bucket = this.buckets.get(key)
    if (bucket) {
      this.buckets.delete(key)
      const elapsed = Math.max(0, now - bucket.at) / 1000
      bucket.tokens = Math.min(capacity, bucket.tokens + elapsed * refillPerSecond)
      bucket.at = now
    } else {
      bucket = { tokens: capacity, at: now }
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value
        if (oldest !== undefined) this.buckets.delete(oldest)
      }
    }
    // Re-inserted so that the map's order is least recently used first.
    this.buckets.set(key, bucket)
    return bucket
  }
}
