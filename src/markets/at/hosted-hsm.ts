import { createHash } from 'node:crypto'
import { invalid } from '../../core/errors.ts'
import type { MasterKey } from '../../core/secrets.ts'

/**
 * A hosted signature-creation unit (an HSM run by a trust provider, reached over HTTPS), in the wire
 * format of PrimeSign's RKSV service: a shared secret in X-AUTH-TOKEN, the user's default key from
 * GET rs/rk/config, its certificate from GET rs/keys/{key}/certificate.cer, and
 * POST rs/rk/signatures/r1raw with the SHA-256 digest of the JWS signing input as the body, answered by
 * the base64url r||s of the ES256 signature. docs/country-at.md, "Hosted HSM".
 */
export interface HostedHsmSettings {
  url: string
  sharedSecret: string
  /** The key of the user, as the service's configuration named it when the device was provisioned. */
  key: string
  /** Bound of one call; past it the receipt is marked "Sicherheitseinrichtung ausgefallen". */
  timeoutMs: number
}

export const DEFAULT_HOSTED_TIMEOUT_MS = 5000

/** Stored in place of a sealed private key: the settings, sealed by the master key as a key would be. */
const HOSTED_REFERENCE = 'hosted-hsm:'

export const isHostedReference = (stored: string): boolean => stored.startsWith(HOSTED_REFERENCE)

export const sealHostedSettings = (master: MasterKey, settings: HostedHsmSettings): string =>
  HOSTED_REFERENCE + master.encrypt(Buffer.from(JSON.stringify(settings), 'utf8'))

export const openHostedSettings = (master: MasterKey, stored: string): HostedHsmSettings =>
  JSON.parse(master.decrypt(stored.slice(HOSTED_REFERENCE.length)).toString('utf8')) as HostedHsmSettings

/** Why a call failed, without the secret: the service's status or the transport's reason. */
export class HostedHsmError extends Error {}

const ES256_SIGNATURE_BYTES = 64

/** One hosted HSM; fetch keeps its connections alive between calls. */
export class HostedHsmClient {
  private readonly base: URL

  constructor(private readonly settings: Omit<HostedHsmSettings, 'key'> & { key?: string }) {
    this.base = new URL(settings.url.endsWith('/') ? settings.url : `${settings.url}/`)
  }

  /** The user's default key, as the service's configuration names it. */
  async defaultKey(): Promise<string> {
    const body = (await this.call('GET', 'rs/rk/config')).toString('utf8')
    let key: unknown
    try {
      key = (JSON.parse(body) as { User?: { DefaultKey?: unknown } }).User?.DefaultKey
    } catch {
      throw new HostedHsmError('the hosted HSM answered rs/rk/config with no JSON')
    }
    if (typeof key !== 'string' || key === '')
      throw new HostedHsmError('the hosted HSM configuration names no User.DefaultKey')
    return key
  }

  /** The X.509 certificate of a key, DER (a PEM answer is unwrapped). */
  async certificate(key: string): Promise<Buffer> {
    const body = await this.call('GET', `rs/keys/${encodeURIComponent(key)}/certificate.cer`)
    const text = body.toString('latin1')
    if (!text.startsWith('-----BEGIN')) return body
    return Buffer.from(text.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
  }

  /** ES256 over the JWS signing input: the service signs its SHA-256 digest and gives r||s. */
  async sign(signingInput: Buffer, signal?: AbortSignal): Promise<Buffer> {
    const digest = createHash('sha256').update(signingInput).digest()
    const answer = (await this.call('POST', 'rs/rk/signatures/r1raw', digest, signal))
      .toString('ascii')
      .trim()
    const signature = Buffer.from(answer, 'base64url')
    if (
      signature.length !== ES256_SIGNATURE_BYTES ||
      signature.toString('base64url') !== answer.replace(/=+$/, '')
    ) {
      throw new HostedHsmError('the hosted HSM answered with no 64-byte base64url ES256 signature')
    }
    return signature
  }

  get timeoutMs(): number {
    return this.settings.timeoutMs
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    body?: Buffer,
    signal?: AbortSignal,
  ): Promise<Buffer> {
    const bound = AbortSignal.timeout(this.settings.timeoutMs)
    let response: Response
    try {
      response = await fetch(new URL(path, this.base), {
        method,
        headers: {
          'X-AUTH-TOKEN': this.settings.sharedSecret,
          ...(body ? { 'content-type': 'application/octet-stream' } : {}),
        },
        ...(body ? { body: new Uint8Array(body) } : {}),
        signal: signal ? AbortSignal.any([signal, bound]) : bound,
      })
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'unreachable'
      throw new HostedHsmError(`the hosted HSM ${reason} (${method} ${path})`)
    }
    const payload = Buffer.from(await response.arrayBuffer())
    if (!response.ok)
      throw new HostedHsmError(`the hosted HSM answered ${response.status} to ${method} ${path}`)
    return payload
  }
}

/** The operator's hosted-HSM settings, checked: an https (or local http) URL without user info, a secret. */
export function hostedSettingsOf(
  spec: { url: unknown; sharedSecret: unknown; timeoutMs?: unknown },
  at: string,
): Omit<HostedHsmSettings, 'key'> {
  let url: URL
  try {
    url = new URL(String(spec.url))
  } catch {
    throw invalid(`${at}.url`, 'must be the absolute URL of the hosted HSM service')
  }
  const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]'
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && local)) || url.username || url.password) {
    throw invalid(`${at}.url`, 'must be https (http only to this machine) and carry no user or password')
  }
  if (
    typeof spec.sharedSecret !== 'string' ||
    spec.sharedSecret.length < 8 ||
    spec.sharedSecret.length > 500
  ) {
    throw invalid(`${at}.sharedSecret`, 'must be the service shared secret (8-500 characters)')
  }
  const timeoutMs = spec.timeoutMs ?? DEFAULT_HOSTED_TIMEOUT_MS
  if (!Number.isInteger(timeoutMs) || (timeoutMs as number) < 100 || (timeoutMs as number) > 60_000) {
    throw invalid(`${at}.timeoutMs`, 'must be an integer from 100 to 60000 (milliseconds)')
  }
  return { url: url.toString(), sharedSecret: spec.sharedSecret, timeoutMs: timeoutMs as number }
}
