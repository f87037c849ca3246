import { randomBytes, randomUUID } from 'node:crypto'
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose'
import { ErrorCode, FiscalError } from '../../core/errors.ts'
import { hashToken, type MasterKey, tokenMatches } from '../../core/secrets.ts'
import type { InstallationSecrets } from './tss/ports.ts'
import type { Caller } from './tss/tss-service.ts'

export interface CredentialRecord {
  apiKey: string
  secretHash: string
  organizationId: string
  env: string
  createdAt: string
}

export interface CredentialStore extends InstallationSecrets {
  insert(credential: CredentialRecord): Promise<void>
  find(apiKey: string): Promise<CredentialRecord | undefined>
  insertRefreshToken(tokenHash: string, apiKey: string, expiresAt: number): Promise<void>
  /** Removes a refresh token and returns what it was for: a refresh token is used once (rotation). */
  takeRefreshToken(tokenHash: string): Promise<{ apiKey: string; expiresAt: number } | undefined>
}

export const ACCESS_TOKEN_S = 86_400
export const REFRESH_TOKEN_S = 172_800
const CACHE_LIMIT = 10_000

export interface TokenGrant {
  access_token: string
  access_token_claims: { env: string; organization_id: string }
  access_token_expires_in: number
  access_token_expires_at: number
  refresh_token: string
  refresh_token_expires_in: number
  refresh_token_expires_at: number
}

const unauthorized = (message: string) =>
  new FiscalError(ErrorCode.Unauthorized, message, undefined, { signDeCode: 'E_UNAUTHORIZED' })

/**
 * SIGN DE API credentials: an API key and secret (stored as a hash) per organization, exchanged for a
 * short-lived JWT access token (HS256, key sealed by the master key and shared by all nodes) and an opaque
 * refresh token (stored as a hash).
 */
export class SignDeCredentials {
  private key: Promise<Uint8Array> | undefined
  /** Verified access tokens: a JWT check per request would cost more than the TSS work it guards. */
  private readonly verified = new Map<string, { caller: Caller; exp: number }>()

  constructor(
    private readonly store: CredentialStore,
    private readonly master: MasterKey,
    private readonly clock: () => number = Date.now,
  ) {}

  private signingKey(): Promise<Uint8Array> {
    this.key ??= (async () => {
      const stored =
        (await this.store.secret('jwt-hs256')) ??
        (await this.store.putSecretIfAbsent('jwt-hs256', '', this.master.encrypt(randomBytes(32))))
      return new Uint8Array(this.master.decrypt(stored.sealed))
    })()
    return this.key
  }

  async create(env: 'LIVE' | 'TEST', organizationId: string = randomUUID()) {
    const apiKey = `${env.toLowerCase()}_${randomBytes(18).toString('base64url')}`
    const apiSecret = randomBytes(32).toString('base64url')
    await this.store.insert({
      apiKey,
      secretHash: hashToken(apiSecret),
      organizationId,
      env,
      createdAt: new Date(this.clock()).toISOString(),
    })
    return { api_key: apiKey, api_secret: apiSecret, organization_id: organizationId, env }
  }

  async authenticate(input: {
    api_key?: string
    api_secret?: string
    refresh_token?: string
  }): Promise<TokenGrant> {
    let credential: CredentialRecord | undefined
    const now = Math.floor(this.clock() / 1000)
    if (input.refresh_token !== undefined) {
      // Rotated as OAuth 2.0 refresh tokens are: each use gives a new one, and a stolen token used after its
      // owner (or the owner after the thief) is refused.
      const found = await this.store.takeRefreshToken(hashToken(input.refresh_token))
      if (!found || found.expiresAt <= now) throw unauthorized('the refresh token is unknown or expired')
      credential = await this.store.find(found.apiKey)
    } else if (input.api_key !== undefined && input.api_secret !== undefined) {
      credential = await this.store.find(input.api_key)
      if (credential && !tokenMatches(input.api_secret, credential.secretHash)) credential = undefined
    } else {
      throw new FiscalError(ErrorCode.ValidationError, 'send api_key and api_secret, or refresh_token', {
        field: 'body',
        reason: 'needs api_key and api_secret, or refresh_token',
      })
    }
    if (!credential) throw unauthorized('wrong api_key or api_secret')
    const accessToken = await new SignJWT({ env: credential.env, organization_id: credential.organizationId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(credential.apiKey)
      .setIssuedAt(now)
      .setExpirationTime(now + ACCESS_TOKEN_S)
      .setJti(randomUUID())
      .sign(await this.signingKey())
    const refreshToken = randomBytes(32).toString('base64url')
    await this.store.insertRefreshToken(hashToken(refreshToken), credential.apiKey, now + REFRESH_TOKEN_S)
    return {
      access_token: accessToken,
      access_token_claims: { env: credential.env, organization_id: credential.organizationId },
      access_token_expires_in: ACCESS_TOKEN_S,
      access_token_expires_at: now + ACCESS_TOKEN_S,
      refresh_token: refreshToken,
      refresh_token_expires_in: REFRESH_TOKEN_S,
      refresh_token_expires_at: now + REFRESH_TOKEN_S,
    }
  }

  /** The caller of a Bearer access token; 401 when it is missing, forged or expired. */
  async verify(token: string): Promise<Caller> {
    const now = Math.floor(this.clock() / 1000)
    const cached = this.verified.get(token)
    if (cached && cached.exp > now) return cached.caller
    try {
      const { payload } = await jwtVerify(token, await this.signingKey(), {
        algorithms: ['HS256'],
        currentDate: new Date(this.clock()),
      })
      const caller = { organizationId: String(payload.organization_id), env: String(payload.env) }
      if (this.verified.size >= CACHE_LIMIT) this.verified.clear()
      this.verified.set(token, { caller, exp: payload.exp ?? now })
      return caller
    } catch (error) {
      if (error instanceof joseErrors.JOSEError)
        throw unauthorized('the access token is invalid or expired: authenticate again (POST /api/v2/auth)')
      throw error
    }
  }
}
