/**
 * Delivery: the contract part that takes a chain's sealed records to the authority that registers them. It
 * runs in the outbox, outside any storage transaction, and decides for each record what became of it in
 * one attempt; the surfaces (the outbox's job handlers) load the records and store those decisions.
 *
 * The decisions follow from what an authority that keeps a chain requires:
 * - records reach it in chain order, always: each one is checked against the last one it holds, and what
 *   it does not hold cannot be cancelled;
 * - a record that may have reached it (its answer was lost) is looked up before it is sent again, so that
 *   nothing is registered twice;
 * - records go in submissions of up to the authority's limit, and only records that may share one;
 * - when the authority asks for a wait between submissions, the records wait for it without a failure;
 * - a refused record is settled for good and never holds back the ones behind it; a record that must be
 *   tried again holds back every later record of its chain.
 */

/** The authority's answer for one record. `A` is what the market keeps of it (opaque here). */
export type RecordAnswer<A> =
  | { kind: 'settled'; answer: A }
  /** Refused for good: sending the same record again would be refused again. */
  | { kind: 'refused'; error: string; answer: A }
  /** It holds a record under this one's key already: a look-up tells whether it is this one. */
  | { kind: 'duplicate' }

export type SubmissionResult<A> =
  /** Processed: an answer per record, by position in the submission (a missing one is an unknown outcome). */
  | { kind: 'answered'; answers: readonly (RecordAnswer<A> | undefined)[] }
  /**
   * Certainly nothing was registered. `heldUntil` (epoch ms): nothing left the process because the
   * authority's wait between submissions runs until then; `retryAfterMs`: the authority asked for a pause.
   */
  | { kind: 'retryable'; error: string; retryAfterMs?: number; heldUntil?: number }
  /** The submission may or may not have been processed (a timeout, a connection lost after sending). */
  | { kind: 'unknown'; error: string }

export type LookupResult<A> =
  | { kind: 'not_registered' }
  | { kind: 'registered'; answer: A }
  /** It holds a different record under this one's key: never send this one over it. */
  | { kind: 'conflicting'; error: string; answer: A }
  | { kind: 'retryable'; error: string }

export interface SubmitHooks {
  /** Awaited right before the request leaves, after the client's own local checks. */
  sending(): Promise<void>
}

/** The client of one chain's authority, as the delivery algorithm uses it. */
export interface AuthorityClient<R, A> {
  /** Most records one submission may carry. */
  readonly maxBatch: number
  /** Whether `next` may go in the same submission as `first` (some authorities take one kind at a time). */
  mayShare(first: R, next: R): boolean
  /** The records in chain order. A client that throws is taken to have an unknown outcome. */
  submit(records: readonly R[], hooks: SubmitHooks): Promise<SubmissionResult<A>>
  /** Does the authority hold this record? A client that throws is taken to have failed to ask. */
  query(record: R): Promise<LookupResult<A>>
}

/** One record of a chain as delivery takes it. */
export interface ChainRecord<R> {
  record: R
  /** Its place in the chain (for the reasons given to the records behind it). */
  position: number
  /** It may have reached the authority before (sent, no answer kept): ask before sending it again. */
  askFirst: boolean
}

/**
 * Where a surface keeps that records may have reached the authority, when it keeps that itself rather than
 * in the outbox job's reconcile flag: marked right before a submission leaves, unmarked when the authority
 * refused the whole submission before processing it (so a resend needs no look-up).
 */
export interface SentMarks<R> {
  mark(records: readonly R[]): Promise<void>
  /** Undoes the last `mark` for these records. */
  unmark(records: readonly R[]): Promise<void>
}

/** How the reason of a record that waits for an earlier record of its chain begins. */
export const WAITING_FOR_RECORD = 'waiting for record '
export const waitingForRecord = (position: number) =>
  `${WAITING_FOR_RECORD}${position} of the chain to reach the authority first`

/** What became of one record in one attempt. */
export type Verdict<A> =
  | { kind: 'settled'; answer: A }
  | { kind: 'refused'; error: string; answer: A }
  /** Tried and failed: try again; `reconcile`: look it up first. */
  | { kind: 'later'; error: string; reconcile: boolean; retryAfterMs?: number }
  /**
   * Not tried: an earlier record of the chain must be tried again first. `reconcile` is the record's own
   * flag, kept; `retryAfterMs` is the pause the authority asked of that earlier record.
   */
  | { kind: 'held'; reason: string; reconcile: boolean; retryAfterMs?: number }
  /** Not tried: the authority's wait between submissions runs until `until` (epoch ms); not a failure. */
  | { kind: 'paced'; reason: string; until: number }

/**
 * Sends a chain's records in order and gives each its verdict, keyed by the chain's own entries (which may
 * carry what their surface needs to store the verdict).
 */
export async function deliverChain<R, A, C extends ChainRecord<R>>(
  client: AuthorityClient<R, A>,
  chain: readonly C[],
  marks?: SentMarks<R>,
): Promise<Map<C, Verdict<A>>> {
  const verdicts = new Map<C, Verdict<A>>()
  /**
   * Set by the first record that must wait: every later record waits too, for that reason (and, when it
   * failed, with the pause the authority asked of it).
   */
  let holding:
    | { kind: 'paced'; reason: string; until: number }
    | { kind: 'held'; reason: string; retryAfterMs: number | undefined }
    | undefined
  let run: C[] = []

  const give = (item: C, verdict: Verdict<A>) => {
    verdicts.set(item, verdict)
    if (holding) return
    if (verdict.kind === 'paced') holding = verdict
    else if (verdict.kind === 'later') {
      holding = {
        kind: 'held',
        reason: waitingForRecord(item.position),
        retryAfterMs: verdict.retryAfterMs,
      }
    }
  }
  const held = (item: C): Verdict<A> =>
    holding?.kind === 'held'
      ? {
          kind: 'held',
          reason: holding.reason,
          reconcile: item.askFirst,
          ...(holding.retryAfterMs === undefined ? {} : { retryAfterMs: holding.retryAfterMs }),
        }
      : (holding as Verdict<A>)

  const flush = async () => {
    const sent = run
    run = []
    if (sent.length === 0) return
    const result = await submitted(client, sent, marks)
    if (result.kind === 'answered') {
      for (const [i, item] of sent.entries()) give(item, await answered(client, item, result.answers[i]))
      return
    }
    if (result.kind === 'unknown') {
      for (const item of sent) give(item, { kind: 'later', error: result.error, reconcile: true })
      return
    }
    if (result.heldUntil !== undefined) {
      const until = result.heldUntil
      for (const item of sent) give(item, { kind: 'paced', reason: result.error, until })
      return
    }
    // Nothing was registered: the first record's attempt failed; the others wait for it, so that the chain
    // goes on at one due time.
    const [first, ...rest] = sent as [C, ...C[]]
    give(first, {
      kind: 'later',
      error: result.error,
      reconcile: first.askFirst,
      ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }),
    })
    for (const item of rest) give(item, held(item))
  }

  for (const item of chain) {
    if (item.askFirst) {
      // Everything before it goes (or is held) first; then it is looked up unless the chain already waits.
      await flush()
      if (!holding) {
        const found = await lookedUp(client, item)
        if (found) {
          give(item, found)
          continue
        }
      }
    }
    const head = run[0]
    if (head && (run.length >= Math.max(1, client.maxBatch) || !client.mayShare(head.record, item.record)))
      await flush()
    if (holding) verdicts.set(item, held(item))
    else run.push(item)
  }
  await flush()
  return verdicts
}

async function submitted<R, A>(
  client: AuthorityClient<R, A>,
  sent: readonly ChainRecord<R>[],
  marks: SentMarks<R> | undefined,
): Promise<SubmissionResult<A>> {
  const fresh = sent.filter((item) => !item.askFirst).map((item) => item.record)
  let marked = false
  let result: SubmissionResult<A>
  try {
    result = await client.submit(
      sent.map((item) => item.record),
      {
        sending: async () => {
          await marks?.mark(sent.map((item) => item.record))
          marked = true
        },
      },
    )
  } catch (error) {
    return { kind: 'unknown', error: (error as Error).message }
  }
  // Refused before any processing: the records sent for the first time need no look-up after all.
  if (result.kind === 'retryable' && marked && fresh.length > 0) await marks?.unmark(fresh)
  return result
}

/** The verdict of one answered record; a duplicate is looked up to tell this record from another. */
async function answered<R, A>(
  client: AuthorityClient<R, A>,
  item: ChainRecord<R>,
  answer: RecordAnswer<A> | undefined,
): Promise<Verdict<A>> {
  if (!answer)
    return {
      kind: 'later',
      error: 'the authority answered without an outcome for this record',
      reconcile: true,
    }
  if (answer.kind !== 'duplicate') return answer
  return (
    (await lookedUp(client, item)) ?? {
      kind: 'later',
      error: 'a duplicate the authority does not hold: to be looked up again',
      reconcile: true,
    }
  )
}

/** After a lost answer or a duplicate: the verdict if the authority holds the record key, else undefined. */
async function lookedUp<R, A>(
  client: AuthorityClient<R, A>,
  item: ChainRecord<R>,
): Promise<Verdict<A> | undefined> {
  let found: LookupResult<A>
  try {
    found = await client.query(item.record)
  } catch (error) {
    found = { kind: 'retryable', error: (error as Error).message }
  }
  if (found.kind === 'not_registered') return undefined
  if (found.kind === 'retryable')
    return { kind: 'later', error: `authority query failed: ${found.error}`, reconcile: true }
  if (found.kind === 'conflicting') return { kind: 'refused', error: found.error, answer: found.answer }
  return { kind: 'settled', answer: found.answer }
}
