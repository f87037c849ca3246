/**
 * Errors of the database drivers that mean "the database is not there right now" (restart, failover,
 * dropped connection, full or locked file), as opposed to a bug or a rule: the request may be retried.
 */

/** Node socket errors, PostgreSQL SQLSTATEs of class 08 and 57P0x, too many connections; SQLite's busy/full. */
const CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01', // admin_shutdown, also pg_terminate_backend
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '53300', // too_many_connections
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
])

/** node-postgres reports a lost socket only in the message. */
const MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Client was closed|Connection lost|connect ECONNREFUSED/i

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 3) return false
  const { code, message, cause, errors } = error as {
    code?: unknown
    message?: unknown
    cause?: unknown
    errors?: unknown
  }
  if (
    typeof code === 'string' &&
    (CODES.has(code) || code.startsWith('08') || code.startsWith('SQLITE_IOERR'))
  )
    return true
  if (typeof message === 'string' && MESSAGES.test(message)) return true
  if (Array.isArray(errors) && errors.some((e) => isDatabaseUnavailable(e, depth + 1))) return true
  return isDatabaseUnavailable(cause, depth + 1)
}
