import { createHmac, randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import { ErrorCode, FiscalError, invalid } from '../errors.ts'

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  length: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>

/** A person who signs in to the dashboard, seeing one account's cash boxes and locations. */
export interface OperatorRecord {
  id: string
  accountId: string
  /** The sign-in name, lower case. */
  email: string
  passwordHash: string
  createdAt: string
}

export interface OperatorStore {
  /** false when the e-mail is taken (UNIQUE). */
  insert(operator: OperatorRecord): Promise<boolean>
  findByEmail(email: string): Promise<OperatorRecord | undefined>
  find(id: string): Promise<OperatorRecord | undefined>
  count(): Promise<number>
  /** The session signing secret, made once per database so that every node accepts every session. */
  sessionSecret(candidate: string): Promise<string>
}

/**
 * scrypt with OWASP's parameters (N=2^17, r=8, p=1: 128 MiB, about a tenth of a second): the stored form
 * names them, so stronger ones later verify the old hashes as they are.
 */
const COST = { N: 2 ** 17, r: 8, p: 1 }
const KEY_LENGTH = 32
const MAX_MEMORY = 256 * 1024 * 1024

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scryptAsync(password, salt, KEY_LENGTH, { ...COST, maxmem: MAX_MEMORY })
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64')}$${key.toString('base64')}`
}

export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !key) return false
  const expected = Buffer.from(key, 'base64')
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAX_MEMORY,
  })
  return timingSafeEqual(actual, expected)
}

/** What a signed-in browser carries: the operator and the account it sees. */
export interface Session {
  operatorId: string
  accountId: string
  email: string
}

/** Eight hours: a working shift. A session is not renewed; signing in again starts a new one. */
export const SESSION_LIFETIME_MS = 8 * 60 * 60 * 1000

const EMAIL = /^[^\s@]+@[^\s@]+$/
const MIN_PASSWORD = 12

/** A hash to compare with when the e-mail is unknown, so that an unknown e-mail costs what a wrong password does. */
let decoyHash: Promise<string> | undefined

const refused = () =>
  new FiscalError(ErrorCode.Unauthorized, 'e-mail or password is wrong', {
    field: 'password',
    reason: 'with the e-mail, must identify an operator',
  })

/**
 * Operator accounts of the dashboard: created from the CLI (or at first start), signed in with a password
 * kept as its scrypt hash, then carried by a session token signed with the database's secret.
 */
export class Operators {
  private secret: Promise<string> | undefined

  constructor(
    private readonly store: OperatorStore,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Creates an operator of the account; without a password, one is generated and returned once. */
  async create(
    accountId: string,
    email: string,
    password?: string,
  ): Promise<{ operator: OperatorRecord; password: string }> {
    const address = email.trim().toLowerCase()
    if (!EMAIL.test(address)) throw invalid('email', 'must be an e-mail address such as ops@example.com')
    const chosen = password ?? randomBytes(12).toString('base64url')
    if (chosen.length < MIN_PASSWORD) throw invalid('password', `must be at least ${MIN_PASSWORD} characters`)
    const operator: OperatorRecord = {
      id: randomUUID(),
      accountId,
      email: address,
      passwordHash: await hashPassword(chosen),
      createdAt: new Date(this.clock()).toISOString(),
    }
    if (!(await this.store.insert(operator)))
      throw new FiscalError(ErrorCode.Conflict, `an operator with e-mail ${address} exists already`, {
        field: 'email',
        reason: 'is already used by an operator',
      })
    return { operator, password: chosen }
  }

  count(): Promise<number> {
    return this.store.count()
  }

  /** The operator with these credentials; any mismatch is the same 401 (counted by api/failed-logins.ts). */
  async signIn(email: string, password: string): Promise<Session> {
    const operator = await this.store.findByEmail(email.trim().toLowerCase())
    decoyHash ??= hashPassword(randomBytes(16).toString('hex'))
    const matches = await passwordMatches(password, operator?.passwordHash ?? (await decoyHash))
    if (!operator || !matches) throw refused()
    return { operatorId: operator.id, accountId: operator.accountId, email: operator.email }
  }

  /** A session token: the operator id and expiry, with their HMAC under the database's secret. */
  async issueToken(session: Session): Promise<string> {
    const payload = `${session.operatorId}.${this.clock() + SESSION_LIFETIME_MS}`
    return `${payload}.${await this.mac(payload)}`
  }

  /** The session of a token, or undefined when it is forged, expired or its operator is gone. */
  async resolve(token: string | undefined): Promise<Session | undefined> {
    const [operatorId, expires, mac] = token?.split('.') ?? []
    if (!operatorId || !expires || !mac) return undefined
    const expected = Buffer.from(await this.mac(`${operatorId}.${expires}`), 'base64url')
    const presented = Buffer.from(mac, 'base64url')
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined
    if (Number(expires) <= this.clock()) return undefined
    const operator = await this.store.find(operatorId)
    return operator && { operatorId: operator.id, accountId: operator.accountId, email: operator.email }
  }

  private async mac(payload: string): Promise<string> {
    this.secret ??= this.store.sessionSecret(randomBytes(32).toString('base64url'))
    return createHmac('sha256', await this.secret)
      .update(payload)
      .digest('base64url')
  }
}
