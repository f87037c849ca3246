import 'reflect-metadata'
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import { ErrorCode, FiscalError, invalid } from '../../core/errors.ts'
import type { MasterKey } from '../../core/secrets.ts'
import type { NewKey, SigningKey, SigningKeys } from '../../core/signing-keys.ts'
import { HostedHsmClient, HostedHsmError, hostedSettingsOf, sealHostedSettings } from './hosted-hsm.ts'
import type { AtDeviceRecord, AtStore } from './ports.ts'
import { aesKeyCheckValue, MAX_COUNTER_BYTES, MIN_COUNTER_BYTES } from './rksv-primitives.ts'

/** One signature device as the operator describes it. */
export interface DeviceSpec {
  number: number
  /** AT0 (closed system, default) or AT1, AT2, ... (certificate of a trust provider). */
  provider?: string
  /** Closed system: the key id after the Ordnungsbegriff (default K{number}). */
  keyId?: string
  /** Certificate mode: serial in hex for a generated test certificate (default random). */
  serial?: string
  /** Import instead of generating: PKCS#8 DER private key (P-256) in base64... */
  privateKey?: string
  /** ...and, in certificate mode, its X.509 certificate as base64 DER. */
  certificate?: string
  /** Sign in a hosted HSM (trust provider AT3 by default) instead of with a key fiscalbox holds. */
  hosted?: { url: string; sharedSecret: string; timeoutMs?: number }
}

export interface ProvisionRequest {
  kassenId: string
  /** base64 of 32 bytes; generated when absent (then shown once in the answer). */
  aesKey?: string
  /** Bytes of the turnover counter, 5..16 (default 8). */
  counterSize?: number
  /** Ordnungsbegriff of the company for closed-system devices, e.g. U:ATU12345678. */
  companyId?: string
  devices: DeviceSpec[]
}

export interface DeviceSummary {
  number: number
  provider: string
  certificateField: string
  signatureDeviceType: 'PUBLIC_KEY' | 'CERTIFICATE'
  publicKey: string
  certificate?: string
  inService: boolean
  outOfServiceSince?: string
}

export interface ProvisionSummary {
  kassenId: string
  counterSize: number
  aesKeyCheckValue: string
  /** Only when fiscalbox generated the key: it is never shown again (register it with FinanzOnline). */
  aesKey?: string
  devices: DeviceSummary[]
}

const KASSEN_ID = /^[\x21-\x7e]{1,100}$/
const COMPANY_ID = /^[USG]:[\x21-\x5e\x60-\x7e]{1,60}$/
const KEY_ID = /^[\x21-\x5e\x60-\x7e]{1,40}$/
const PROVIDER = /^AT\d{1,3}$/
const SERIAL = /^[0-9a-f]{1,40}$/

export const summarizeDevice = (d: AtDeviceRecord): DeviceSummary => ({
  number: d.number,
  provider: d.provider,
  certificateField: d.certificateField,
  signatureDeviceType: d.certificate ? 'CERTIFICATE' : 'PUBLIC_KEY',
  publicKey: d.publicKey,
  ...(d.certificate ? { certificate: d.certificate } : {}),
  inService: d.outOfServiceSince === null,
  ...(d.outOfServiceSince ? { outOfServiceSince: d.outOfServiceSince } : {}),
})

/**
 * Provisioning of an Austrian cash box: the Kassen-ID and AES key (registered with FinanzOnline) and its
 * signature devices. Keys are generated here, in the PKCS#11 token when one is configured (docs/hsm.md), or
 * imported; the AES key and imported keys are sealed by the master key before storage.
 */
export class AtProvisioning {
  constructor(
    private readonly store: AtStore,
    private readonly master: MasterKey,
    private readonly keys: SigningKeys,
  ) {}

  async provision(queueId: string, request: ProvisionRequest): Promise<ProvisionSummary> {
    if (!KASSEN_ID.test(request.kassenId) || request.kassenId.includes('_')) {
      throw invalid('kassenId', 'must be 1-100 printable ASCII characters without "_" or spaces')
    }
    const counterSize = request.counterSize ?? 8
    if (
      !Number.isInteger(counterSize) ||
      counterSize < MIN_COUNTER_BYTES ||
      counterSize > MAX_COUNTER_BYTES
    ) {
      throw invalid(
        'counterSize',
        `must be an integer from ${MIN_COUNTER_BYTES} to ${MAX_COUNTER_BYTES} (bytes)`,
      )
    }
    let aesKey: Buffer
    const generated = request.aesKey === undefined
    if (request.aesKey === undefined) aesKey = randomBytes(32)
    else {
      aesKey = Buffer.from(request.aesKey, 'base64')
      if (aesKey.length !== 32 || aesKey.toString('base64') !== request.aesKey) {
        throw invalid('aesKey', 'must be the base64 text of a 32-byte AES-256 key')
      }
    }
    if (request.devices.length === 0) throw invalid('devices', 'at least one signature device is needed')
    const devices: AtDeviceRecord[] = []
    const base64Key = aesKey.toString('base64')
    try {
      for (const [i, spec] of request.devices.entries()) {
        devices.push(await this.device(queueId, spec, request.companyId, `devices[${i}]`))
      }
      const numbers = new Set(devices.map((d) => d.number))
      const fields = new Set(devices.map((d) => d.certificateField))
      if (numbers.size !== devices.length) throw invalid('devices', 'device numbers must be distinct')
      if (fields.size !== devices.length)
        throw invalid('devices', 'key ids / certificate serials must be distinct')
      await this.store.insertCashbox(
        {
          queueId,
          kassenId: request.kassenId,
          aesKeyEncrypted: this.master.encrypt(aesKey),
          aesKeyCheck: aesKeyCheckValue(base64Key),
          counterSize,
          createdAt: new Date().toISOString(),
        },
        devices,
      )
    } catch (error) {
      // Refused or not stored: keys made in a token for these devices would stay behind.
      this.keys.discard(...devices.map((d) => d.privateKeyEncrypted))
      throw error
    }
    return {
      kassenId: request.kassenId,
      counterSize,
      aesKeyCheckValue: aesKeyCheckValue(base64Key),
      ...(generated ? { aesKey: base64Key } : {}),
      devices: devices.map(summarizeDevice),
    }
  }

  /** A further device (e.g. a backup smart card); the company id is taken from the closed-system devices. */
  async addDevice(queueId: string, spec: DeviceSpec, companyId: string | undefined): Promise<DeviceSummary> {
    await this.configured(queueId)
    const company = companyId ?? (await this.companyOf(queueId))
    const device = await this.device(queueId, spec, company, 'body')
    try {
      await this.store.insertDevice(device)
    } catch (error) {
      this.keys.discard(device.privateKeyEncrypted)
      throw error
    }
    return summarizeDevice(device)
  }

  async setInService(queueId: string, number: number, inService: boolean): Promise<DeviceSummary> {
    await this.configured(queueId)
    const found = await this.store.setOutOfService(
      queueId,
      number,
      inService ? null : new Date().toISOString(),
    )
    if (!found)
      throw new FiscalError(ErrorCode.NotFound, `this cash box has no signature device ${number}`, {
        field: 'number',
        reason: 'no signature device of this cash box has this number',
      })
    const device = (await this.store.devices(queueId)).find((d) => d.number === number)
    if (!device)
      throw new FiscalError(ErrorCode.NotFound, `this cash box has no signature device ${number}`, {
        field: 'number',
        reason: 'no signature device of this cash box has this number',
      })
    return summarizeDevice(device)
  }

  async describe(queueId: string): Promise<Omit<ProvisionSummary, 'aesKey'>> {
    const config = await this.configured(queueId)
    return {
      kassenId: config.kassenId,
      counterSize: config.counterSize,
      aesKeyCheckValue: config.aesKeyCheck,
      devices: (await this.store.devices(queueId)).map(summarizeDevice),
    }
  }

  /** The devices of every cash box that sign with a trust provider's certificate. */
  certifiedDevices(): Promise<AtDeviceRecord[]> {
    return this.store.certifiedDevices()
  }

  private async configured(queueId: string) {
    const config = await this.store.config(queueId)
    if (!config) throw notProvisioned()
    return config
  }

  private async companyOf(queueId: string): Promise<string | undefined> {
    const closed = (await this.store.devices(queueId)).find((d) => d.provider === 'AT0')
    return closed?.certificateField.slice(0, closed.certificateField.lastIndexOf('-'))
  }

  private async device(
    queueId: string,
    spec: DeviceSpec,
    companyId: string | undefined,
    at: string,
  ): Promise<AtDeviceRecord> {
    if (!Number.isInteger(spec.number) || spec.number < 0 || spec.number > 999) {
      throw invalid(`${at}.number`, 'must be an integer from 0 to 999')
    }
    const provider = spec.provider ?? (spec.hosted ? 'AT3' : 'AT0')
    if (!PROVIDER.test(provider))
      throw invalid(`${at}.provider`, 'must be AT0 (closed system) or AT1, AT2, ...')
    if (spec.hosted) return this.hostedDevice(queueId, spec, provider, at)
    let closedSystemField: string | undefined
    if (provider === 'AT0') {
      if (!companyId || !COMPANY_ID.test(companyId) || companyId.includes('_')) {
        throw invalid(
          'companyId',
          'closed-system devices need the Ordnungsbegriff, e.g. U:ATU12345678 (U: UID, S: Steuernummer, G: GLN)',
        )
      }
      const keyId = spec.keyId ?? `K${spec.number}`
      if (!KEY_ID.test(keyId))
        throw invalid(`${at}.keyId`, 'must be 1-40 printable ASCII characters without "_"')
      closedSystemField = `${companyId}-${keyId}`
    }
    // Made once the request's own fields are known good: a key made in a token is a write.
    const { key, stored } = this.keyPair(queueId, spec, at)
    const base = {
      queueId,
      number: spec.number,
      provider,
      publicKey: key.publicKey.toString('base64'),
      privateKeyEncrypted: stored,
      outOfServiceSince: null,
      createdAt: new Date().toISOString(),
    }
    if (closedSystemField) return { ...base, certificateField: closedSystemField, certificate: null }
    try {
      return { ...base, ...(await certified(key, spec, at)) }
    } catch (error) {
      this.keys.discard(stored)
      throw error
    }
  }

  /** A device whose key stays in a hosted HSM: its certificate is read from the service, its settings sealed. */
  private async hostedDevice(
    queueId: string,
    spec: DeviceSpec,
    provider: string,
    at: string,
  ): Promise<AtDeviceRecord> {
    if (provider === 'AT0')
      throw invalid(`${at}.provider`, 'a hosted HSM signs with a certificate: AT1, AT2, AT3, ...')
    if (spec.privateKey || spec.certificate || spec.serial) {
      throw invalid(
        `${at}.hosted`,
        'a hosted device takes no privateKey, certificate or serial: the service holds them',
      )
    }
    const settings = hostedSettingsOf(
      spec.hosted ?? { url: undefined, sharedSecret: undefined },
      `${at}.hosted`,
    )
    let key: string
    let certificate: X509Certificate
    try {
      const client = new HostedHsmClient(settings)
      key = await client.defaultKey()
      certificate = new X509Certificate(await client.certificate(key))
    } catch (error) {
      const reason =
        error instanceof HostedHsmError ? error.message : 'the hosted HSM gave no X.509 certificate'
      throw new FiscalError(ErrorCode.DeviceNotReachable, `${reason}: the device was not added`, {
        field: `${at}.hosted.url`,
        reason,
      })
    }
    if (certificate.publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw invalid(`${at}.hosted`, 'the hosted key must be a P-256 (ES256) key')
    }
    return {
      queueId,
      number: spec.number,
      provider,
      certificateField: certificate.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''),
      publicKey: certificate.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      certificate: certificate.raw.toString('base64'),
      privateKeyEncrypted: sealHostedSettings(this.master, { ...settings, key }),
      outOfServiceSince: null,
      createdAt: new Date().toISOString(),
    }
  }

  private keyPair(queueId: string, spec: DeviceSpec, at: string): NewKey {
    if (spec.privateKey) {
      try {
        const key = createPrivateKey({
          key: Buffer.from(spec.privateKey, 'base64'),
          format: 'der',
          type: 'pkcs8',
        })
        if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('not P-256')
        return this.keys.seal(key)
      } catch {
        throw invalid(`${at}.privateKey`, 'must be a base64 PKCS#8 DER P-256 private key')
      }
    }
    return this.keys.generate('P-256', `fiscalbox AT device ${queueId}/${spec.number}`)
  }
}

/** A certificate device's certificate (given, or self-signed for tests) and its serial, checked against the key. */
async function certified(
  key: SigningKey,
  spec: DeviceSpec,
  at: string,
): Promise<{ certificateField: string; certificate: string }> {
  const certificate = spec.certificate
    ? Buffer.from(spec.certificate, 'base64')
    : await selfSignedCertificate(key, spec.serial ?? randomBytes(8).toString('hex'), `${at}.serial`)
  try {
    const parsed = new X509Certificate(certificate)
    const certKey = parsed.publicKey.export({ type: 'spki', format: 'der' })
    if (!certKey.equals(key.publicKey)) throw new Error('key mismatch')
    return {
      certificateField: parsed.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''),
      certificate: certificate.toString('base64'),
    }
  } catch {
    throw invalid(`${at}.certificate`, 'must be a base64 DER X.509 certificate of the device private key')
  }
}

/**
 * A self-signed certificate for test installations: real AT1..AT3 certificates come from the trust
 * provider and are imported with `certificate` and `privateKey`. The key may be in a token: the generator
 * gets a WebCrypto whose sign is the key's (r||s, as WebCrypto's ECDSA gives it) and makes the DER
 * ECDSA-Sig-Value of the certificate itself.
 */
async function selfSignedCertificate(key: SigningKey, serial: string, field: string): Promise<Buffer> {
  const hex = serial.toLowerCase()
  if (!SERIAL.test(hex)) throw invalid(field, 'must be hexadecimal (at most 40 digits)')
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const signingKey = {
    algorithm,
    type: 'private',
    extractable: false,
    usages: ['sign'],
  } as unknown as CryptoKey
  const signer = {
    getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
    subtle: {
      sign: async (_algorithm: unknown, _key: unknown, tbs: ArrayBuffer) => key.sign(Buffer.from(tbs)),
    },
  } as unknown as Crypto
  const now = new Date()
  const certificate = await x509.X509CertificateGenerator.create(
    {
      // A leading 0 keeps the DER integer positive for serials whose first digit is 8-f.
      serialNumber: /^[89a-f]/.test(hex) ? `00${hex}` : hex,
      subject: `CN=fiscalbox RKSV test device ${hex}`,
      issuer: `CN=fiscalbox RKSV test device ${hex}`,
      notBefore: now,
      notAfter: new Date(now.getTime() + 10 * 365 * 24 * 3600 * 1000),
      signingAlgorithm: algorithm,
      publicKey: new Uint8Array(key.publicKey),
      signingKey,
    },
    signer,
  )
  return Buffer.from(certificate.rawData)
}

export const notProvisioned = () =>
  new FiscalError(
    ErrorCode.MarketNotConfigured,
    'this Austrian cash box is not provisioned: set its Kassen-ID, AES key and signature devices first (PUT /at/v1/cashbox or `fiscalbox at provision`, see docs/country-at.md)',
    { field: 'headers.x-cashbox-id', reason: 'the cash box is not provisioned for Austria yet' },
  )
