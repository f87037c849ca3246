import type { FastifyBaseLogger } from 'fastify'
import { type CredentialInventory, EXPIRY_WARNING_DAYS } from '../core/credentials.ts'

const DAY_MS = 86_400_000

/** Logs one warning per credential that expires within 30 days (or has expired); the number warned of. */
export async function warnOfExpiry(
  inventory: CredentialInventory,
  log: Pick<FastifyBaseLogger, 'warn'>,
  now = new Date(),
): Promise<number> {
  const warnings = await inventory.expiring(now)
  for (const { credential, daysLeft } of warnings) {
    log.warn(
      {
        country: credential.country,
        kind: credential.kind,
        use: credential.use,
        subject: credential.subject,
        holder: credential.holder,
        notAfter: credential.notAfter?.toISOString(),
        daysLeft,
      },
      daysLeft < 0
        ? `${credential.use} ${credential.kind} of ${credential.holder} has expired: replace it`
        : `${credential.use} ${credential.kind} of ${credential.holder} expires in ${daysLeft} days (warned ${EXPIRY_WARNING_DAYS} days ahead): replace it`,
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
