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
  '53100', // disk_full
  '58030', // io_error
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

/**
 * Whether the store itself failed to write (a full disk, an I/O error), as opposed to a lost connection:
 * /health reports it until a write succeeds (see write-failures.ts).
 */
export function isWriteFailure(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 3) return false
  const { code, cause } = error as { code?: unknown; cause?: unknown }
  if (typeof code === 'string' && WRITE_FAILURE.test(code)) return true
  return isWriteFailure(cause, depth + 1)
}

const WRITE_FAILURE = /^(SQLITE_FULL|SQLITE_IOERR.*|53100|58030)$/
