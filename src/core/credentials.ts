import { X509Certificate } from 'node:crypto'
import { DEFAULT_ACCOUNT_ID } from './cashboxes.ts'

/**
 * The certificates and keys fiscalbox signs with, and when each stops being valid: one inventory that
 * every market fills through its `CredentialSource` (markets/module.ts `credentials`).
 */
export interface HeldCredential {
  /** ISO country code of the market that holds it. */
  country: string
  kind: 'certificate' | 'key'
  /** What it is and what it signs, in the words of the market's law (a signing unit's certificate, its CA's). */
  use: string
  /** What holds it (a signing unit, a device number): with the cash box, it tells one from another. */
  holder: string
  /**
   * The cash box that signs with it, whose account's operators see it; null for one the installation
   * holds for no cash box (made through a market's own API), which the local account's operators see.
   */
  cashboxId: string | null
  /** The account that owns it when no cash box does (the certificate store's); wins over cashboxId. */
  ownerAccountId?: string
  /** A certificate's subject DN, or what a key belongs to. */
  subject: string
  /** A certificate's issuer DN; null for a key. */
  issuer: string | null
  /** A certificate's serial number in hex; for a key, its version where the law numbers them. */
  serial: string | null
  notBefore: Date | null
  /** End of validity; null for a key without one (it is valid until replaced). */
  notAfter: Date | null
}

export interface Credential extends HeldCredential {
  /** The account whose operators see it (the cash box's). */
  accountId: string
}

export interface CredentialSource {
  credentials(): Promise<HeldCredential[]>
}

export interface CredentialWarning {
  credential: Credential
  /** Whole days from now to notAfter, rounded down: negative once it has expired. */
  daysLeft: number
}

/** Days ahead that an expiry is warned of (log, dashboard). */
export const EXPIRY_WARNING_DAYS = 30
const DAY_MS = 86_400_000

/** What a certificate says about itself, for a market's `CredentialSource`. */
export function certificateFacts(
  der: Buffer,
): Pick<HeldCredential, 'subject' | 'issuer' | 'serial' | 'notBefore' | 'notAfter'> {
  const certificate = new X509Certificate(der)
  // Node writes one attribute a line; a DN reads better (and fits a metric label) on one.
  const dn = (name: string) => name.split('\n').join(', ')
  return {
    subject: dn(certificate.subject),
    issuer: dn(certificate.issuer),
    serial: certificate.serialNumber.toLowerCase(),
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
  }
}

export class CredentialInventory {
  constructor(
    private readonly sources: readonly CredentialSource[],
    /** The account of each cash box, by cash box id. */
    private readonly accounts: () => Promise<ReadonlyMap<string, string>>,
    /** Epoch milliseconds (the runtime's clock). */
    private readonly clock: () => number = Date.now,
  ) {}

  /** Every credential, soonest expiry first; those without one last. */
  async list(): Promise<Credential[]> {
    const held = await Promise.all(this.sources.map((source) => source.credentials()))
    // Every cash box is read (a scrape asks): not when no credential has one to look up.
    const accounts = held.some((list) => list.some((c) => c.cashboxId !== null))
      ? await this.accounts()
      : new Map<string, string>()
    const end = (c: Credential) => c.notAfter?.getTime() ?? Number.POSITIVE_INFINITY
    const all: Credential[] = []
    for (const c of held.flat()) {
      const accountId =
        c.ownerAccountId ?? (c.cashboxId === null ? DEFAULT_ACCOUNT_ID : accounts.get(c.cashboxId))
      // A cash box that is not there has no operators: its credentials are no account's to see.
      if (accountId) all.push({ ...c, accountId })
    }
    return all.sort((a, b) => end(a) - end(b))
  }

  /** The credentials an account's operators see. */
  async ofAccount(accountId: string): Promise<Credential[]> {
    return (await this.list()).filter((c) => c.accountId === accountId)
  }

  /** Those of `credentials` that expire within `days` of now, or have expired (negative days left). */
  expiring(credentials: readonly Credential[], days = EXPIRY_WARNING_DAYS): CredentialWarning[] {
    const now = this.clock()
    const warnings: CredentialWarning[] = []
    for (const credential of credentials) {
      if (!credential.notAfter) continue
      const left = credential.notAfter.getTime() - now
      if (left <= days * DAY_MS) warnings.push({ credential, daysLeft: Math.floor(left / DAY_MS) })
    }
    return warnings
  }
}
