/**
 * The certificates and keys fiscalbox signs with, and when each stops being valid: one inventory that
 * every market fills through its `CredentialSource` (markets/module.ts `credentials`).
 */
export interface Credential {
  /** ISO country code of the market that holds it. */
  country: string
  kind: 'certificate' | 'key'
  /** What it signs: e.g. `TSS`, `signature creation device`, `TicketBAI`. */
  use: string
  /** A certificate's subject DN, or what a key belongs to (a queue, a TSS, a location). */
  subject: string
  /** Where fiscalbox keeps it: the TSS, queue or location id. */
  holder: string
  /** End of validity; null for a key without one (it is valid until replaced). */
  notAfter: Date | null
}

export interface CredentialSource {
  credentials(): Promise<Credential[]>
}

export interface CredentialWarning {
  credential: Credential
  daysLeft: number
}

/** Days ahead that an expiry is warned of (log, dashboard). */
export const EXPIRY_WARNING_DAYS = 30
const DAY_MS = 86_400_000

export class CredentialInventory {
  constructor(private readonly sources: readonly CredentialSource[]) {}

  /** Every credential, soonest expiry first; those without one last. */
  async list(): Promise<Credential[]> {
    const all = (await Promise.all(this.sources.map((source) => source.credentials()))).flat()
    const end = (c: Credential) => c.notAfter?.getTime() ?? Number.POSITIVE_INFINITY
    return all.sort((a, b) => end(a) - end(b))
  }

  /** Those that expire within `days` of `now`, or have expired (negative days left). */
  async expiring(now: Date, days = EXPIRY_WARNING_DAYS): Promise<CredentialWarning[]> {
    const warnings: CredentialWarning[] = []
    for (const credential of await this.list()) {
      if (!credential.notAfter) continue
      const daysLeft = Math.floor((credential.notAfter.getTime() - now.getTime()) / DAY_MS)
      if (daysLeft <= days) warnings.push({ credential, daysLeft })
    }
    return warnings
  }
}
