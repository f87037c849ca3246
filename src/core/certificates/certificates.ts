import { createHash, createPrivateKey, type KeyObject, randomUUID } from 'node:crypto'
import { ErrorCode, FiscalError } from '../errors.ts'
import type { CredentialSource } from '../credentials.ts'
import type { UnitOfWork } from '../ports.ts'
import type { MasterKey } from '../secrets.ts'
import {
  CERTIFICATE_USES,
  type CertificateInput,
  type CertificateUse,
  distinguishedName,
  readCertificate,
  usagesOf,
  usesAllowed,
} from './bundle.ts'

/**
 * The certificates an account owns (a taxpayer's, a representative's, a device's), kept for the markets
 * that authenticate to an authority or sign with them. The private key is sealed by the master key and
 * never shown again. A certificate keeps its id through replacements: each replacement is a new version,
 * made the active one in one commit, so that what uses the id switches at once while a submission under
 * way finishes with the material it already holds.
 */
export interface CertificateVersion {
  id: string
  certificateId: string
  accountId: string
  version: number
  /** SHA-256 of the leaf certificate's DER, hex: the same certificate is stored once per account. */
  fingerprint: string
  subject: string
  issuer: string
  serialNumber: string
  notBefore: string
  notAfter: string
  keyUsage: string[]
  extendedKeyUsage: string[]
  uses: CertificateUse[]
  /** The leaf and the issuers that came with it, PEM, leaf first. */
  chainPem: string
  privateKeyEncrypted: string
  createdAt: string
}

export interface StoredCertificate {
  id: string
  accountId: string
  name: string
  createdAt: string
  active: CertificateVersion
}

export interface CertificateStore {
  /** Stores a new certificate with its first version; false when the account holds that fingerprint. */
  insert(certificate: Omit<StoredCertificate, 'active'>, version: CertificateVersion): Promise<boolean>
  /**
   * Adds a version and makes it the active one, in one commit, if `expectedVersion` is still the active
   * one; false otherwise (a concurrent replacement, or the account holds that fingerprint).
   */
  replace(version: CertificateVersion, expectedVersion: number): Promise<boolean>
  find(accountId: string, id: string): Promise<StoredCertificate | undefined>
  /** `find` inside a unit of work (a receipt's seal), whose connection the store's own reads would wait for. */
  findIn(unit: UnitOfWork, accountId: string, id: string): Promise<StoredCertificate | undefined>
  findByFingerprint(accountId: string, fingerprint: string): Promise<StoredCertificate | undefined>
  list(accountId: string): Promise<StoredCertificate[]>
  /** Every account's certificates (the expiry inventory). */
  listAll(): Promise<StoredCertificate[]>
  /** The certificate and its versions; false when there was none. */
  remove(accountId: string, id: string): Promise<boolean>
  /** The account's locations that name a certificate in their country_config, by certificate id. */
  usersOf(accountId: string): Promise<Map<string, string[]>>
}

/** What a market uses to authenticate or sign: one version of a stored certificate, opened. */
export interface CertificateMaterial {
  certificateId: string
  /** Changes when the certificate is replaced: a client built on the old material is then rebuilt. */
  versionId: string
  key: KeyObject
  /** The private key as PKCS#8 PEM (TLS options and XML signers take PEM). */
  keyPem: string
  /** The leaf certificate, PEM. */
  certificatePem: string
  /** The leaf and its issuers, PEM: what a TLS client presents. */
  chainPem: string
  uses: CertificateUse[]
  subject: string
  notAfter: Date
}

/**
 * What a market reads of the account's certificates (handed over in its MarketContext): the active version of
 * one, opened; undefined when the account holds none of that id. Read outside any unit of work.
 */
export interface CertificateSource {
  activeMaterial(accountId: string, id: string): Promise<CertificateMaterial | undefined>
  /**
   * The same, read inside a receipt's unit of work: a market that signs with the certificate at the seal
   * reads which version is active with each receipt (a replacement by another process counts from the
   * next one), and opens each version once.
   */
  activeMaterialIn(unit: UnitOfWork, accountId: string, id: string): Promise<CertificateMaterial | undefined>
}

/** Where a location names the stored certificate its records are signed or sent with. */
export const CERTIFICATE_ID_FIELD = 'certificate_id'

export interface ImportRequest {
  input: CertificateInput
  /** A new certificate's name (default: its subject's CN); a replacement keeps the name it has. */
  name?: string
  /** The uses it must allow; by default both (a taxpayer's certificate usually signs and authenticates). */
  uses?: readonly CertificateUse[]
}

export interface Imported {
  certificate: StoredCertificate
  /** false: the account already held this certificate (the import is idempotent). */
  created: boolean
}

export class Certificates implements CertificateSource {
  private readonly opened = new Map<string, CertificateMaterial>()

  constructor(
    private readonly store: CertificateStore,
    private readonly master: MasterKey,
    private readonly clock: () => number = Date.now,
  ) {}

  async import(accountId: string, request: ImportRequest): Promise<Imported> {
    const version = await this.versionOf(accountId, randomUUID(), 1, request)
    const existing = await this.store.findByFingerprint(accountId, version.fingerprint)
    if (existing) return { certificate: existing, created: false }
    const certificate = {
      id: version.certificateId,
      accountId,
      name: request.name ?? distinguishedNameCn(version.subject),
      createdAt: version.createdAt,
    }
    if (await this.store.insert(certificate, version))
      return { certificate: { ...certificate, active: version }, created: true }
    // Imported by a concurrent request meanwhile: the UNIQUE fingerprint kept one.
    const raced = await this.store.findByFingerprint(accountId, version.fingerprint)
    if (!raced) throw new FiscalError(ErrorCode.Internal, 'certificate neither stored nor found')
    return { certificate: raced, created: false }
  }

  /** A new version of the certificate becomes the active one; submissions under way finish with the old. */
  async replace(accountId: string, id: string, request: ImportRequest): Promise<StoredCertificate> {
    const current = await this.get(accountId, id)
    const version = await this.versionOf(accountId, id, current.active.version + 1, request)
    if (version.fingerprint === current.active.fingerprint) return current
    const holder = await this.store.findByFingerprint(accountId, version.fingerprint)
    if (holder)
      throw new FiscalError(
        ErrorCode.Conflict,
        `this certificate is already stored${holder.id === id ? ' as an earlier version of this one' : ` as ${holder.id}`}`,
      )
    if (!(await this.store.replace(version, current.active.version)))
      throw new FiscalError(
        ErrorCode.Conflict,
        `certificate ${id} was replaced meanwhile: list it and try again`,
      )
    return { ...current, active: version }
  }

  async get(accountId: string, id: string): Promise<StoredCertificate> {
    const found = await this.store.find(accountId, id)
    if (!found) throw new FiscalError(ErrorCode.NotFound, `no certificate ${id} in this account`)
    return found
  }

  /** The account's certificates with the locations that use each. */
  async list(accountId: string): Promise<Array<{ certificate: StoredCertificate; usedBy: string[] }>> {
    const [certificates, users] = await Promise.all([
      this.store.list(accountId),
      this.store.usersOf(accountId),
    ])
    return certificates.map((certificate) => ({ certificate, usedBy: users.get(certificate.id) ?? [] }))
  }

  async usedBy(accountId: string, id: string): Promise<string[]> {
    return (await this.store.usersOf(accountId)).get(id) ?? []
  }

  /** Refused while a location names it: its records would have nothing to be signed or sent with. */
  async remove(accountId: string, id: string): Promise<void> {
    const users = await this.usedBy(accountId, id)
    if (users.length > 0)
      throw new FiscalError(
        ErrorCode.Conflict,
        `certificate ${id} is used by location ${users.join(', ')}: name another one in their country_config first`,
      )
    if (!(await this.store.remove(accountId, id)))
      throw new FiscalError(ErrorCode.NotFound, `no certificate ${id} in this account`)
  }

  /** The active version, opened (kept in memory per version: a replacement is a new version). */
  async material(accountId: string, id: string): Promise<CertificateMaterial> {
    return this.open((await this.get(accountId, id)).active)
  }

  private open(active: CertificateVersion): CertificateMaterial {
    const cached = this.opened.get(active.id)
    if (cached) return cached
    const keyPem = this.master.decrypt(active.privateKeyEncrypted).toString('utf8')
    const material: CertificateMaterial = {
      certificateId: active.certificateId,
      versionId: active.id,
      key: createPrivateKey(keyPem),
      keyPem,
      certificatePem: firstPem(active.chainPem),
      chainPem: active.chainPem,
      uses: active.uses,
      subject: active.subject,
      notAfter: new Date(active.notAfter),
    }
    if (this.opened.size >= 256) this.opened.clear()
    this.opened.set(active.id, material)
    return material
  }

  /**
   * The certificate a location names in its country_config (`certificate_id`); undefined when it names
   * none or one the account does not hold: the market that needs it says so, since only it knows whether
   * the record it makes needs one (a test-environment record does not).
   */
  async ofLocation(location: {
    accountId: string
    countryConfig: Record<string, unknown>
  }): Promise<CertificateMaterial | undefined> {
    const id = location.countryConfig[CERTIFICATE_ID_FIELD]
    return typeof id === 'string' ? this.activeMaterial(location.accountId, id) : undefined
  }

  async activeMaterial(accountId: string, id: string): Promise<CertificateMaterial | undefined> {
    const stored = await this.store.find(accountId, id)
    return stored && this.open(stored.active)
  }

  async activeMaterialIn(
    unit: UnitOfWork,
    accountId: string,
    id: string,
  ): Promise<CertificateMaterial | undefined> {
    const stored = await this.store.findIn(unit, accountId, id)
    return stored && this.open(stored.active)
  }

  private async versionOf(
    accountId: string,
    certificateId: string,
    version: number,
    request: ImportRequest,
  ): Promise<CertificateVersion> {
    const uses = request.uses ?? CERTIFICATE_USES
    const now = new Date(this.clock())
    const { key, leaf, chain } = await readCertificate(request.input, uses, now)
    const usages = usagesOf(leaf)
    const keyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString()
    return {
      id: randomUUID(),
      certificateId,
      accountId,
      version,
      fingerprint: createHash('sha256').update(leaf.raw).digest('hex'),
      subject: distinguishedName(leaf.subject),
      issuer: distinguishedName(leaf.issuer),
      serialNumber: leaf.serialNumber,
      notBefore: new Date(leaf.validFrom).toISOString(),
      notAfter: new Date(leaf.validTo).toISOString(),
      keyUsage: usages.keyUsage,
      extendedKeyUsage: usages.extendedKeyUsage,
      uses: usesAllowed(leaf),
      chainPem: [leaf, ...chain].map((c) => c.toString()).join(''),
      privateKeyEncrypted: this.master.encrypt(Buffer.from(keyPem, 'utf8')),
      createdAt: now.toISOString(),
    }
  }
}

const firstPem = (pem: string): string => {
  const end = '-----END CERTIFICATE-----'
  return `${pem.slice(0, pem.indexOf(end) + end.length)}\n`
}

/** A certificate's default name: its subject's common name, else the whole subject. */
const distinguishedNameCn = (subject: string): string => /(?:^|, )CN=([^,]+)/.exec(subject)?.[1] ?? subject

/**
 * The store's certificates in the expiry inventory (core/credentials.ts). They belong to an account, not
 * to a market: `country` is `*`, the owner is the account and the holder names the certificate.
 */
export const storedCertificateCredentials = (store: Pick<CertificateStore, 'listAll'>): CredentialSource => ({
  credentials: async () =>
    (await store.listAll()).map((c) => ({
      country: '*',
      kind: 'certificate' as const,
      use: `stored certificate (${c.active.uses.join(', ')})`,
      holder: `certificate ${c.id}`,
      cashboxId: null,
      ownerAccountId: c.accountId,
      subject: c.active.subject,
      issuer: c.active.issuer,
      serial: c.active.serialNumber.toLowerCase(),
      notBefore: new Date(c.active.notBefore),
      notAfter: new Date(c.active.notAfter),
    })),
})
