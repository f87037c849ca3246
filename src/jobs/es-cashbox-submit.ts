import type { JobRecord } from '../core/outbox.ts'
import type { V1Unit } from '../core/v1/ports.ts'
import type { RecordOutcome, SpanishAuthority, SubmissionResult } from '../markets/es/authority.ts'
import {
  ES_SUBMIT_JOB,
  type EsCashboxConfig,
  type EsRecord,
  type EsStore,
  parseJobSubject,
} from '../markets/es/cashbox/ports.ts'
import type { TicketBaiRecord } from '../markets/es/ticketbai/issue.ts'
import { keyOf } from '../markets/es/v1-fiscalizer.ts'
import type { VerifactuRecord } from '../markets/es/verifactu/records.ts'
import type { JobHandler, JobOutcome } from './engine.ts'

type AnyRecord = VerifactuRecord | TicketBaiRecord
export type EsAuthorityOf = (queueId: string, config: EsCashboxConfig) => SpanishAuthority<AnyRecord>

interface Item {
  record: EsRecord
  value: AnyRecord
  /** The claimed job of the record; none for an earlier pending record of the chain taken along. */
  job?: JobRecord
  /** Ask the authority before sending: the record may have reached it before (it was sent once). */
  reconcile: boolean
}

/** What became of one record in this attempt. */
type Verdict =
  | { kind: 'settled'; status: 'accepted' | 'accepted_with_errors'; authority: Record<string, unknown> }
  | { kind: 'refused'; error: string; authority: Record<string, unknown> }
  | { kind: 'later'; error: string; reconcile: boolean; retryAfterMs?: number }
  /** Not sent: the AEAT's waiting time runs until `until` (epoch ms); not a failure, so not an attempt. */
  | { kind: 'paced'; reason: string; until: number }

/**
 * Submission of the Spanish records of /v2/sign receipts (one job per record, grouped per cash box), in
 * chain order. An attempt takes along the earlier records of the chain that are still pending (their jobs
 * wait in backoff), after asking the authority whether it has them already, so that nothing is sent past
 * a record of the chain and no invoice is registered twice. Each record gets its own outcome: a rejected
 * record is settled (and its job goes to the dead letter), so it never holds back the ones behind it; a
 * record whose submission failed holds back the later ones until it is retried.
 */
export function esCashboxSubmitHandler(deps: {
  store: EsStore
  authorityOf: EsAuthorityOf
  /**
   * Most record jobs one worker loop claims at once (JOBS_SUBMISSION_CLAIM_BATCH, as v1's submissions):
   * a cash box's backlog or its held LROE batch goes out in submissions of up to the authority's 1000
   * records instead of one submission per 20 claimed jobs.
   */
  claimBatch: number
}): JobHandler {
  const { store } = deps

  async function verdictOf(
    authority: SpanishAuthority<AnyRecord>,
    item: Item,
    outcome: RecordOutcome | undefined,
    waitSeconds: number,
  ): Promise<Verdict> {
    if (!outcome)
      return {
        kind: 'later',
        error: 'the authority answered without an outcome for this record',
        reconcile: true,
      }
    const answer: Record<string, unknown> = {
      state: outcome.authorityState,
      ...(outcome.code ? { code: outcome.code } : {}),
      ...(outcome.description ? { description: outcome.description } : {}),
      ...(outcome.csv ? { csv: outcome.csv } : {}),
      ...(waitSeconds > 0 ? { waitSeconds } : {}),
    }
    if (outcome.status === 'accepted' || outcome.status === 'accepted_with_errors')
      return { kind: 'settled', status: outcome.status, authority: answer }
    if (outcome.status === 'rejected')
      return {
        kind: 'refused',
        error:
          `rejected by the authority: ${outcome.authorityState} ${outcome.code ?? ''} ${outcome.description ?? ''}`.trim(),
        authority: answer,
      }
    const found = await lookedUp(authority, item)
    return found === 'not_registered'
      ? {
          kind: 'later',
          error: 'a duplicate the authority does not hold: to be looked up again',
          reconcile: true,
        }
      : found
  }

  /** After an unknown outcome or a duplicate: does the authority hold this very record? */
  async function lookedUp(
    authority: SpanishAuthority<AnyRecord>,
    item: Item,
  ): Promise<Verdict | 'not_registered'> {
    const found = await authority.query(item.value)
    if (found.kind === 'retryable')
      return { kind: 'later', error: `authority query failed: ${found.reason}`, reconcile: true }
    if (found.kind === 'not_registered') return 'not_registered'
    if (found.sameRecord)
      return {
        kind: 'settled',
        status: 'accepted',
        authority: { state: found.authorityState, reconciled: true },
      }
    return {
      kind: 'refused',
      error: `the authority holds a different record under ${keyOf(item.value)}: needs a person`,
      authority: { state: found.authorityState },
    }
  }

  async function submit(authority: SpanishAuthority<AnyRecord>, run: Item[]): Promise<Verdict[]> {
    let result: SubmissionResult
    const { queueId } = (run[0] as Item).record
    const seqs = run.map((item) => item.record.seq)
    let sentAt: string | undefined
    const sending = async () => {
      sentAt = new Date().toISOString()
      await store.markSent(queueId, seqs, sentAt)
    }
    try {
      result = await authority.submit(
        run.map((item) => item.value),
        { sending },
      )
    } catch (error) {
      // A client that throws cannot tell whether the records arrived: an unknown outcome.
      result = { kind: 'unknown', reason: (error as Error).message }
    }
    if (result.kind === 'answered') {
      const byKey = new Map(result.outcomes.map((o) => [o.key, o]))
      const verdicts: Verdict[] = []
      for (const item of run)
        verdicts.push(await verdictOf(authority, item, byKey.get(keyOf(item.value)), result.waitSeconds))
      return verdicts
    }
    if (result.kind === 'retryable' && result.heldUntil) {
      const until = result.heldUntil.getTime()
      return run.map((): Verdict => ({ kind: 'paced', reason: result.reason, until }))
    }
    // Refused before any processing (503, SOAP fault): nothing is registered, so a resend needs no look-up.
    if (result.kind === 'retryable' && sentAt)
      await store.unmarkSent(
        queueId,
        run.filter((item) => !item.reconcile).map((item) => item.record.seq),
        sentAt,
      )
    return run.map(
      (item): Verdict =>
        result.kind === 'retryable'
          ? {
              kind: 'later',
              error: result.reason,
              reconcile: item.reconcile,
              ...(result.retryAfterSeconds ? { retryAfterMs: result.retryAfterSeconds * 1000 } : {}),
            }
          : { kind: 'later', error: result.reason, reconcile: true },
    )
  }

  /**
   * Every item's verdict, in chain order: after the first record that must wait, the rest wait too, for the
   * same reason (the AEAT's waiting time: all of them go together once it is over).
   */
  async function attempt(authority: SpanishAuthority<AnyRecord>, items: Item[]): Promise<Map<Item, Verdict>> {
    const verdicts = new Map<Item, Verdict>()
    let holding: Verdict | undefined
    let run: Item[] = []
    const hold = (item: Item, verdict: Verdict) => {
      if (verdict.kind === 'paced') holding ??= verdict
      else if (verdict.kind === 'later')
        holding ??= {
          kind: 'later',
          error: `waiting for record ${item.record.seq} of the chain`,
          reconcile: false,
        }
    }
    const heldVerdict = (item: Item): Verdict =>
      holding?.kind === 'later' ? { ...holding, reconcile: item.reconcile } : (holding as Verdict)
    const flush = async () => {
      if (run.length === 0) return
      const answers = await submit(authority, run)
      run.forEach((item, i) => {
        const verdict = answers[i] as Verdict
        verdicts.set(item, verdict)
        hold(item, verdict)
      })
      run = []
    }
    for (const item of items) {
      if (item.reconcile) {
        await flush()
        if (!holding) {
          const found = await lookedUp(authority, item)
          if (found !== 'not_registered') {
            verdicts.set(item, found)
            hold(item, found)
            continue
          }
        }
      }
      const head = run[0]
      // One submission: at most maxBatch records, and TicketBAI never mixes invoices and cancellations.
      if (head && (run.length >= authority.maxBatch || head.value.kind !== item.value.kind)) await flush()
      if (holding) verdicts.set(item, heldVerdict(item))
      else run.push(item)
    }
    await flush()
    return verdicts
  }

  const toOutcome = (item: Item, verdict: Verdict): JobOutcome => {
    const { queueId, seq } = item.record
    if (verdict.kind === 'settled')
      return {
        kind: 'done',
        effects: (unit) => store.setStatusIn(unit.unit, queueId, seq, verdict.status, verdict.authority),
      }
    if (verdict.kind === 'refused')
      return {
        kind: 'dead',
        error: verdict.error,
        effects: (unit) => store.setStatusIn(unit.unit, queueId, seq, 'rejected', verdict.authority),
      }
    if (verdict.kind === 'paced') return { kind: 'wait', reason: verdict.reason, runAt: verdict.until }
    return {
      kind: 'retry',
      error: verdict.error,
      reconcile: verdict.reconcile,
      ...(verdict.retryAfterMs ? { retryAfterMs: verdict.retryAfterMs } : {}),
    }
  }

  async function runGroup(jobs: JobRecord[]): Promise<Map<string, JobOutcome>> {
    const outcomes = new Map<string, JobOutcome>()
    const queueId = parseJobSubject(jobs[0]?.subjectId ?? '').queueId
    const bySeq = new Map(jobs.map((job) => [parseJobSubject(job.subjectId).seq, job]))
    const config = await store.config(queueId)
    if (!config) {
      for (const job of jobs)
        outcomes.set(job.id, { kind: 'dead', error: 'the cash box has no Spanish configuration' })
      return outcomes
    }
    const last = Math.max(...bySeq.keys())
    const earlier = (await store.pendingBelow(queueId, last)).filter((seq) => !bySeq.has(seq))
    const records = await store.recordsBySeq(queueId, [...earlier, ...bySeq.keys()])
    const items: Item[] = []
    for (const record of records) {
      const job = bySeq.get(record.seq)
      const value = record.document.record.value
      const reconcile = record.sentAt !== null
      if (!job) items.push({ record, value, reconcile })
      else if (record.status === 'pending') items.push({ record, value, job, reconcile })
      // Settled meanwhile, by an attempt that took it along: a rejection still goes to the dead letter.
      else if (record.status === 'rejected')
        outcomes.set(job.id, {
          kind: 'dead',
          error: `rejected by the authority: ${JSON.stringify(record.authority)}`,
        })
      else outcomes.set(job.id, { kind: 'done' })
    }
    for (const [seq, job] of bySeq)
      if (!records.some((r) => r.seq === seq))
        outcomes.set(job.id, { kind: 'dead', error: `record ${seq} is missing` })
    const verdicts = await attempt(deps.authorityOf(queueId, config), items)
    for (const [item, verdict] of verdicts) {
      if (item.job) outcomes.set(item.job.id, toOutcome(item, verdict))
      // A record taken along: its answer is stored now; its own job finds it settled.
      else if (verdict.kind === 'settled')
        await store.setStatus(queueId, item.record.seq, verdict.status, verdict.authority)
      else if (verdict.kind === 'refused')
        await store.setStatus(queueId, item.record.seq, 'rejected', verdict.authority)
    }
    return outcomes
  }

  return {
    kind: ES_SUBMIT_JOB,
    claimBatch: deps.claimBatch,
    // One attempt per cash box at a time in this process (the engine runs a group's attempts one after
    // another): two would send the same pending records.
    run: runGroup,
    async onDead(unit: V1Unit, job: JobRecord, error: string) {
      const { queueId, seq } = parseJobSubject(job.subjectId)
      await store.setStatusIn(unit.unit, queueId, seq, 'failed_permanent', { error }, 'pending')
    },
    async onRevive(unit: V1Unit, job: JobRecord) {
      const { queueId, seq } = parseJobSubject(job.subjectId)
      await store.setStatusIn(unit.unit, queueId, seq, 'pending', undefined, 'failed_permanent')
    },
  }
}
