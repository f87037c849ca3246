import { randomBytes, randomInt, scryptSync, timingSafeEqual } from 'node:crypto'

// PINs and PUKs are short: a salted, deliberately slow hash, so a copy of the database does not give them away.
const COST = { N: 8192, r: 8, p: 1 }

export function hashSecret(secret: string): string {
  const salt = randomBytes(16)
  return `s1.${salt.toString('base64')}.${scryptSync(secret, salt, 32, COST).toString('base64')}`
}

export function secretMatches(secret: string, stored: string): boolean {
  const [version, salt, hash] = stored.split('.')
  if (version !== 's1' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  const actual = scryptSync(secret, Buffer.from(salt, 'base64'), expected.length, COST)
  return timingSafeEqual(expected, actual)
}

const PUK_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'

/** A 10-character PUK (the minimum length of the SIGN DE API), about 50 bits. */
export const newPuk = (): string =>
  Array.from({ length: 10 }, () => PUK_ALPHABET[randomInt(PUK_ALPHABET.length)]).join('')
