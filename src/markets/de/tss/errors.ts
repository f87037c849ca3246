import { ErrorCode, FiscalError } from '../../../core/errors.ts'
import type { DeErrorCode } from '../errors.ts'

/** A TSS rule broken: the SIGN DE code is the error code itself (see ../errors.ts). */
export const tssError = (code: DeErrorCode, message: string): FiscalError => new FiscalError(code, message)

/** Not found: HTTP 404, with the SIGN DE code that names what was missing. */
export const notFound = (what: 'TSS' | 'CLIENT' | 'TX' | 'EXPORT', message: string): FiscalError =>
  new FiscalError(ErrorCode.NotFound, message, undefined, { signDeCode: `E_${what}_NOT_FOUND` })
