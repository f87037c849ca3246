import type { Credential, CredentialWarning } from '../../core/credentials.ts'

export interface CredentialRow {
  country: string
  kind: string
  use: string
  holder: string
  cashboxId: string | null
  cashboxLabel: string
  subject: string
  issuer: string
  serial: string
  notBefore: string
  notAfter: string
  /** `expired`, `expiring` (within the warning period), `valid` or `no-expiry`: the row's marker. */
  state: 'expired' | 'expiring' | 'valid' | 'no-expiry'
  /** The marker's words: colour alone would say nothing to a screen reader or on a grey-scale tablet. */
  status: string
}

const days = (n: number) => (n === 1 ? '1 day' : `${n} days`)
/** A moment as the pages show it: UTC, to the second. */
export const utc = (date: Date | null) => (date ? date.toISOString().replace('T', ' ').slice(0, 19) : '—')

/** The certificates page's rows: every credential, marked by what the warning period says of it. */
export function credentialRows(
  credentials: readonly Credential[],
  warnings: readonly CredentialWarning[],
  cashboxLabels: ReadonlyMap<string, string>,
): CredentialRow[] {
  const warned = new Map(warnings.map((w) => [w.credential, w.daysLeft]))
  return credentials.map((c) => {
    const daysLeft = warned.get(c)
    const state = !c.notAfter
      ? 'no-expiry'
      : daysLeft === undefined
        ? 'valid'
        : daysLeft < 0
          ? 'expired'
          : 'expiring'
    const status = {
      'no-expiry': 'no expiry: valid until replaced',
      valid: 'valid',
      expiring: daysLeft ? `expires in ${days(daysLeft)}: replace it` : 'expires within a day: replace it',
      expired: `expired ${days(-(daysLeft ?? 0))} ago: replace it`,
    }[state]
    return {
      country: c.country,
      kind: c.kind,
      use: c.use,
      holder: c.holder,
      cashboxId: c.cashboxId,
      cashboxLabel: c.cashboxId
        ? cashboxLabels.get(c.cashboxId) || c.cashboxId
        : c.ownerAccountId
          ? 'account (imported)'
          : 'installation',
      subject: c.subject,
      issuer: c.issuer ?? '—',
      serial: c.serial ?? '—',
      notBefore: utc(c.notBefore),
      notAfter: utc(c.notAfter),
      state,
      status,
    }
  })
}
