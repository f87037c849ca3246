import type { ErrorCodeSpec } from '../module.ts'

/** The TSS and the SIGN DE v2 API name their errors with these codes: the value is the wire code. */
export const DeErrorCode = {
  IllegalTssStateChange: 'E_ILLEGAL_TSS_STATE_CHANGE',
  AdminPinBlocked: 'E_ADMIN_PIN_BLOCKED',
  ChangeAdminPinFailed: 'E_CHANGE_ADMIN_PIN_FAILED',
  AdminLoginFailed: 'E_ADMIN_LOGIN_FAILED',
  AdminNotAuthenticated: 'E_ADMIN_NOT_AUTHENTICATED',
  IllegalClientSerial: 'E_ILLEGAL_CLIENT_SERIAL',
  TssDisabled: 'E_TSS_DISABLED',
  TssNotInitialized: 'E_TSS_NOT_INITIALIZED',
  ClientLimitReached: 'E_CLIENT_LIMIT_REACHED',
  ClientConflict: 'E_CLIENT_CONFLICT',
  TssConflict: 'E_TSS_CONFLICT',
  TxUpsert: 'E_TX_UPSERT',
  ClientNotFound: 'E_CLIENT_NOT_FOUND',
  ClientDeregistered: 'E_CLIENT_DEREGISTERED',
  TxLimitReached: 'E_TX_LIMIT_REACHED',
  TxIllegalTypeChange: 'E_TX_ILLEGAL_TYPE_CHANGE',
  TxNoTypeDefined: 'E_TX_NO_TYPE_DEFINED',
  PendingTxConflict: 'E_PENDING_TX_CONFLICT',
  TxRevisionNotFound: 'E_TX_REVISION_NOT_FOUND',
  ExportIllegalTssState: 'E_TSS_ILLEGAL_STATE_TO_PERFORM_EXPORT',
  TooManyExports: 'E_TOO_MANY_EXPORTS',
  ExportNotCompleted: 'E_EXPORT_NOT_COMPLETED',
} as const

export type DeErrorCode = (typeof DeErrorCode)[keyof typeof DeErrorCode]

export const DE_ERRORS: Record<DeErrorCode, ErrorCodeSpec> = {
  [DeErrorCode.IllegalTssStateChange]: { status: 400, title: 'Illegal TSS state change' },
  [DeErrorCode.AdminPinBlocked]: { status: 423, title: 'Admin PIN blocked' },
  [DeErrorCode.ChangeAdminPinFailed]: { status: 400, title: 'Admin PIN change failed' },
  [DeErrorCode.AdminLoginFailed]: { status: 401, title: 'Admin login failed' },
  [DeErrorCode.AdminNotAuthenticated]: { status: 401, title: 'Admin not authenticated' },
  [DeErrorCode.IllegalClientSerial]: { status: 400, title: 'Illegal client serial number' },
  [DeErrorCode.TssDisabled]: { status: 400, title: 'TSS disabled' },
  [DeErrorCode.TssNotInitialized]: { status: 400, title: 'TSS not initialized' },
  [DeErrorCode.ClientLimitReached]: { status: 403, title: 'Client limit reached' },
  [DeErrorCode.ClientConflict]: { status: 409, title: 'Client conflict' },
  [DeErrorCode.TssConflict]: { status: 409, title: 'TSS conflict' },
  [DeErrorCode.TxUpsert]: { status: 400, title: 'Transaction upsert failed' },
  [DeErrorCode.ClientNotFound]: { status: 400, title: 'Client not found' },
  [DeErrorCode.ClientDeregistered]: { status: 400, title: 'Client deregistered' },
  [DeErrorCode.TxLimitReached]: { status: 400, title: 'Active transaction limit reached' },
  [DeErrorCode.TxIllegalTypeChange]: { status: 409, title: 'Illegal transaction type change' },
  [DeErrorCode.TxNoTypeDefined]: { status: 409, title: 'Transaction has no type' },
  [DeErrorCode.PendingTxConflict]: { status: 409, title: 'Transaction revision conflict' },
  [DeErrorCode.TxRevisionNotFound]: { status: 400, title: 'Transaction revision not found' },
  [DeErrorCode.ExportIllegalTssState]: { status: 409, title: 'TSS state does not allow an export' },
  [DeErrorCode.TooManyExports]: { status: 409, title: 'Too many exports' },
  [DeErrorCode.ExportNotCompleted]: { status: 404, title: 'Export not completed' },
}
