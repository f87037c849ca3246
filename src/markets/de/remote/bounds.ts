import type { RemotePlan } from './operations.ts'

/** The longest exchange a cash box may allow its remote TSE (`timeoutMs` of its set-up). */
export const MAX_REMOTE_TIMEOUT_MS = 60_000
export const DEFAULT_REMOTE_TIMEOUT_MS = 5_000
/** A recovery reads back and finishes at most this many calls (a receipt cancelling open transactions). */
export const MAX_RECOVERED_CALLS = 4
/** Beyond its exchanges, what a call may take (signing in, JSON). */
const CALL_MARGIN_MS = 2_000

/** What a receipt's calls may take: each call, its read-back after a lost answer, and one sign-in. */
export const remoteCallBound = (timeoutMs: number, calls: number): number =>
  (2 * calls + 1) * timeoutMs + CALL_MARGIN_MS

export const parsePlan = (request: string): RemotePlan => JSON.parse(request) as RemotePlan
