import { isWriteFailure } from './unavailable.ts'

/**
 * The last write that failed because of the store itself (a full disk, an I/O error), until a write
 * succeeds. A health probe reads it instead of writing on every call: a `select 1` answers while the disk
 * is full, so without it a node that refuses every receipt would still be reported healthy.
 */
export class WriteFailures {
  private lastCode: string | undefined

  /** The code of the failure (SQLITE_FULL, 53100...), or undefined while writes succeed. */
  get current(): string | undefined {
    return this.lastCode
  }

  /** Observes a write: its success clears the failure, a failure of the store sets it. */
  watch<T>(write: Promise<T>): Promise<T> {
    return write.then(
      (value) => {
        this.lastCode = undefined
        return value
      },
      (error: unknown) => {
        if (isWriteFailure(error)) this.lastCode = codeOf(error)
        throw error
      },
    )
  }
}

function codeOf(error: unknown): string {
  const { code, cause } = error as { code?: unknown; cause?: unknown }
  if (typeof code === 'string') return code
  return cause ? codeOf(cause) : 'unknown'
}
