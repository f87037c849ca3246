import type { FastifyBaseLogger } from 'fastify'
import { type CredentialInventory, EXPIRY_WARNING_DAYS } from '../core/credentials.ts'

const DAY_MS = 86_400_000

/** Logs one warning per credential that expires within 30 days (or has expired); the number warned of. */
export async function warnOfExpiry(
  inventory: CredentialInventory,
  log: Pick<FastifyBaseLogger, 'warn'>,
): Promise<number> {
  const warnings = inventory.expiring(await inventory.list())
  for (const { credential, daysLeft } of warnings) {
    const what = `${credential.country} ${credential.use} of ${credential.holder}${credential.cashboxId ? ` (cash box ${credential.cashboxId})` : ''}`
    log.warn(
      {
        country: credential.country,
        kind: credential.kind,
        use: credential.use,
        holder: credential.holder,
        cashboxId: credential.cashboxId,
        accountId: credential.accountId,
        subject: credential.subject,
        serial: credential.serial,
        notAfter: credential.notAfter?.toISOString(),
        daysLeft,
      },
      daysLeft < 0
        ? `${what} has expired: replace it`
        : `${what} expires in ${daysLeft} days (warned ${EXPIRY_WARNING_DAYS} days ahead): replace it`,
    )
  }
  return warnings.length
}

/** Warns at once and then every day while the server runs; stop() ends it. */
export function watchExpiry(
  inventory: CredentialInventory,
  log: Pick<FastifyBaseLogger, 'warn' | 'error'>,
): { stop(): void } {
  const check = () =>
    void warnOfExpiry(inventory, log).catch((error: unknown) =>
      log.error({ err: error }, 'certificate expiry not checked: it is checked again tomorrow'),
    )
  check()
  const timer = setInterval(check, DAY_MS)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
