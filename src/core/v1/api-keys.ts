import { randomBytes, randomUUID } from 'node:crypto'
import { hashToken } from '../secrets.ts'
import type { Environment } from './model.ts'
import type { NewApiKey } from './ports.ts'

/** `fsk_test_` or `fsk_live_` and 64 hex digits (32 random bytes); the prefix picks the environment. */
const KEY = /^fsk_(test|live)_[0-9a-f]{64}$/

export function newApiKey(accountId: string, environment: Environment, name: string, now: Date) {
  const secret = `fsk_${environment}_${randomBytes(32).toString('hex')}`
  const record: NewApiKey = {
    id: randomUUID(),
    accountId,
    environment,
    keyHash: hashToken(secret),
    keyHint: `${secret.slice(0, 13)}…${secret.slice(-4)}`,
    name,
    createdAt: now.toISOString(),
    revokedAt: null,
  }
  return { secret, record }
}

/** The environment of a well-formed key, or undefined: a malformed key is never looked up. */
export function environmentOfKey(key: string): Environment | undefined {
  const match = KEY.exec(key)
  return match ? (match[1] as Environment) : undefined
}
