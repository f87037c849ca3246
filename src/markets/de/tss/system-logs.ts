import type { SystemData } from './log-message.ts'

/**
 * The system log messages this TSS writes, one builder per TR-03151 operation, with systemOperationData
 * in the field order and types of TR-03151's ASN.1 (the table in docs/tar-export.md). Enumerated values
 * are written as the content of an implicitly tagged INTEGER/ENUMERATED, as the BSI TSE simulator and
 * certified TSEs do: `82 01 00`.
 */

/** The only user of this TSS: the admin of the SIGN DE API (PIN, PUK). */
export const ADMIN_USER_ID = 'Admin'

/** Role ::= ENUMERATED { admin(0), timeAdmin(1) } */
export const ROLE = { admin: 0, timeAdmin: 1 } as const
/** LogOutCause ::= ENUMERATED { user(0), timeout(1) } */
export const LOG_OUT_CAUSE = { user: 0, timeout: 1 } as const
/** UnblockResult ::= ENUMERATED { ok(0), failed(1), unknownUserId(2), error(3) } */
export const UNBLOCK_RESULT = { ok: 0, failed: 1, unknownUserId: 2, error: 3 } as const

export const systemLogs = {
  /** Without a description, no field: as the simulator does when none was set. */
  initialize: (description: string): SystemData => ({
    operationType: 'initialize',
    fields: description ? [{ tag: 1, text: description }] : [],
  }),
  authenticateUser: (userId: string, role: number, authenticated: boolean): SystemData => ({
    operationType: 'authenticateUser',
    fields: [
      { tag: 1, text: userId },
      { tag: 2, int: role },
      { tag: 3, bool: authenticated },
    ],
  }),
  logOut: (userId: string, cause: number): SystemData => ({
    operationType: 'logOut',
    fields: [
      { tag: 1, text: userId },
      { tag: 2, int: cause },
    ],
  }),
  unblockUser: (userId: string, result: number): SystemData => ({
    operationType: 'unblockUser',
    fields: [
      { tag: 1, text: userId },
      { tag: 2, int: result },
    ],
  }),
  registerClient: (clientId: string): SystemData => ({
    operationType: 'registerClient',
    fields: [{ tag: 1, text: clientId }],
  }),
  deregisterClient: (clientId: string): SystemData => ({
    operationType: 'deregisterClient',
    fields: [{ tag: 1, text: clientId }],
  }),
  /** timeOfDeactivation in unixTime seconds, the log time format of this TSS. */
  disableSecureElement: (timeOfDeactivation: number): SystemData => ({
    operationType: 'disableSecureElement',
    fields: [{ tag: 1, int: timeOfDeactivation }],
  }),
}
