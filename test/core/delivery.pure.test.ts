import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  type AuthorityClient,
  type ChainRecord,
  deliverChain,
  type LookupResult,
  type SentMarks,
  type SubmissionResult,
} from '../../src/core/delivery.ts'

/**
 * The one delivery algorithm against an authority kept in memory: it registers what it is sent (in the
 * order it comes), answers look-ups from what it holds, and fails as each test tells it to. Every call is
 * logged, so a test sees what reached the authority and in which order.
 */
interface Rec {
  id: string
  kind: 'invoice' | 'cancellation'
}

type Scripted = (records: readonly Rec[]) => SubmissionResult<string> | undefined

class MemoryAuthority implements AuthorityClient<Rec, string> {
  readonly held = new Map<string, string>()
  readonly log: string[] = []
  /** Failures of the next submissions, in turn; an empty list (or undefined) answers normally. */
  readonly next: Scripted[] = []
  queryFails = false

  constructor(
    readonly maxBatch = 1000,
    private readonly oneKind = false,
  ) {}

  mayShare(first: Rec, next: Rec): boolean {
    return !this.oneKind || first.kind === next.kind
  }

  async submit(records: readonly Rec[], hooks: { sending(): Promise<void> }) {
    const scripted = this.next.shift()?.(records)
    if (scripted?.kind === 'retryable' && scripted.heldUntil !== undefined) return scripted
    await hooks.sending()
    this.log.push(`submit ${records.map((r) => r.id).join(',')}`)
    if (scripted) return scripted
    return {
      kind: 'answered' as const,
      answers: records.map((r) => {
        if (this.held.has(r.id)) return { kind: 'duplicate' as const }
        if (r.id.startsWith('bad'))
          return { kind: 'refused' as const, error: `refused ${r.id}`, answer: 'no' }
        this.held.set(r.id, 'ours')
        return { kind: 'settled' as const, answer: `ok ${r.id}` }
      }),
    }
  }

  async query(record: Rec): Promise<LookupResult<string>> {
    this.log.push(`query ${record.id}`)
    if (this.queryFails) throw new Error('no route to host')
    const holder = this.held.get(record.id)
    if (holder === undefined) return { kind: 'not_registered' }
    if (holder !== 'ours') return { kind: 'conflicting', error: `another ${record.id}`, answer: holder }
    return { kind: 'registered', answer: `found ${record.id}` }
  }
}

const chainOf = (ids: string[], askFirst: string[] = []): ChainRecord<Rec>[] =>
  ids.map((id, i) => ({
    record: { id, kind: id.startsWith('c') ? 'cancellation' : 'invoice' },
    position: i + 1,
    askFirst: askFirst.includes(id),
  }))

const kinds = (verdicts: Map<ChainRecord<Rec>, { kind: string }>) =>
  [...verdicts].map(([item, verdict]) => `${item.record.id}:${verdict.kind}`)

describe('delivery: the one algorithm', () => {
  test('a backlog goes in chain order, in submissions of up to the limit', async () => {
    const authority = new MemoryAuthority(2)
    const verdicts = await deliverChain(authority, chainOf(['a', 'b', 'c1', 'd', 'e']))
    assert.deepEqual(authority.log, ['submit a,b', 'submit c1,d', 'submit e'])
    assert.deepEqual(kinds(verdicts), ['a:settled', 'b:settled', 'c1:settled', 'd:settled', 'e:settled'])
  })

  test('records that may not share a submission go in separate ones, still in order', async () => {
    const authority = new MemoryAuthority(1000, true)
    await deliverChain(authority, chainOf(['a', 'b', 'c1', 'c2', 'e']))
    assert.deepEqual(authority.log, ['submit a,b', 'submit c1,c2', 'submit e'])
  })

  test('a record sent before is looked up first: one it holds is settled, a missing one sent, in order', async () => {
    const authority = new MemoryAuthority()
    authority.held.set('b', 'ours')
    authority.held.set('d', 'somebody else')
    const verdicts = await deliverChain(authority, chainOf(['a', 'b', 'c', 'd', 'e'], ['b', 'c', 'd']))
    assert.deepEqual(authority.log, ['submit a', 'query b', 'query c', 'submit c', 'query d', 'submit e'])
    assert.deepEqual(kinds(verdicts), ['a:settled', 'b:settled', 'c:settled', 'd:refused', 'e:settled'])
    assert.deepEqual([...verdicts.values()][1], { kind: 'settled', answer: 'found b' })
    assert.deepEqual([...verdicts.values()][3], {
      kind: 'refused',
      error: 'another d',
      answer: 'somebody else',
    })
  })

  test('a refused record is settled for good and does not hold back the later ones', async () => {
    const authority = new MemoryAuthority(2)
    const verdicts = await deliverChain(authority, chainOf(['a', 'bad1', 'c', 'd']))
    assert.deepEqual(authority.log, ['submit a,bad1', 'submit c,d'])
    assert.deepEqual(kinds(verdicts), ['a:settled', 'bad1:refused', 'c:settled', 'd:settled'])
  })

  test('an unknown outcome: the records are to be looked up; the rest of the chain is held', async () => {
    const authority = new MemoryAuthority(2)
    authority.next.push(() => ({ kind: 'unknown', error: 'timeout' }))
    const verdicts = await deliverChain(authority, chainOf(['a', 'b', 'c'], ['c']))
    assert.deepEqual(authority.log, ['submit a,b'], 'nothing is looked up or sent behind the unknown outcome')
    assert.deepEqual(
      [...verdicts.values()],
      [
        { kind: 'later', error: 'timeout', reconcile: true },
        { kind: 'later', error: 'timeout', reconcile: true },
        {
          kind: 'held',
          reason: 'waiting for record 1 of the chain to reach the authority first',
          reconcile: true,
        },
      ],
    )
  })

  test('a retryable failure: the first record is tried again after the pause, the others wait for it', async () => {
    const authority = new MemoryAuthority(2)
    authority.next.push(() => ({ kind: 'retryable', error: '503', retryAfterMs: 30_000 }))
    const verdicts = await deliverChain(authority, chainOf(['a', 'b', 'c', 'd']))
    assert.deepEqual(authority.log, ['submit a,b'])
    const held = {
      kind: 'held',
      reason: 'waiting for record 1 of the chain to reach the authority first',
      reconcile: false,
      retryAfterMs: 30_000,
    }
    assert.deepEqual(
      [...verdicts.values()],
      [{ kind: 'later', error: '503', reconcile: false, retryAfterMs: 30_000 }, held, held, held],
    )
  })

  test("the authority's wait between submissions paces the whole chain, as no failure", async () => {
    const authority = new MemoryAuthority(2)
    authority.next.push(() => ({ kind: 'retryable', error: 'TiempoEsperaEnvio', heldUntil: 60_000 }))
    const verdicts = await deliverChain(authority, chainOf(['a', 'b', 'c'], ['c']))
    assert.deepEqual(authority.log, [], 'nothing left, nothing was looked up')
    for (const verdict of verdicts.values())
      assert.deepEqual(verdict, { kind: 'paced', reason: 'TiempoEsperaEnvio', until: 60_000 })
  })

  test('an answer without an outcome for a record: it is looked up next time, the rest waits', async () => {
    const authority = new MemoryAuthority(2)
    authority.next.push((records) => ({
      kind: 'answered',
      answers: [{ kind: 'settled', answer: `ok ${records[0]?.id}` }],
    }))
    const verdicts = await deliverChain(authority, chainOf(['a', 'b', 'c']))
    assert.deepEqual(kinds(verdicts), ['a:settled', 'b:later', 'c:held'])
    assert.deepEqual([...verdicts.values()][1], {
      kind: 'later',
      error: 'the authority answered without an outcome for this record',
      reconcile: true,
    })
  })

  test('a duplicate is looked up: this record is settled, another one is refused', async () => {
    const authority = new MemoryAuthority()
    authority.held.set('a', 'ours')
    authority.held.set('b', 'somebody else')
    const verdicts = await deliverChain(authority, chainOf(['a', 'b', 'c']))
    assert.deepEqual(authority.log, ['submit a,b,c', 'query a', 'query b'])
    assert.deepEqual(kinds(verdicts), ['a:settled', 'b:refused', 'c:settled'])
  })

  test('a client that throws: an unknown outcome, or a failed look-up', async () => {
    const authority = new MemoryAuthority()
    authority.next.push(() => {
      throw new Error('socket hang up')
    })
    const thrown = await deliverChain(authority, chainOf(['a']))
    assert.deepEqual([...thrown.values()], [{ kind: 'later', error: 'socket hang up', reconcile: true }])
    authority.queryFails = true
    const lookedUp = await deliverChain(authority, chainOf(['a', 'b'], ['a']))
    assert.deepEqual(kinds(lookedUp), ['a:later', 'b:held'])
    assert.deepEqual([...lookedUp.values()][0], {
      kind: 'later',
      error: 'authority query failed: no route to host',
      reconcile: true,
    })
  })

  test('sent marks: set before a submission leaves, undone for fresh records when it was refused unprocessed', async () => {
    const calls: string[] = []
    const marks: SentMarks<Rec> = {
      mark: async (records) => void calls.push(`mark ${records.map((r) => r.id).join(',')}`),
      unmark: async (records) => void calls.push(`unmark ${records.map((r) => r.id).join(',')}`),
    }
    const authority = new MemoryAuthority()
    authority.next.push(() => ({ kind: 'retryable', error: '503' }))
    await deliverChain(authority, chainOf(['a', 'b'], ['a']), marks)
    assert.deepEqual(calls, ['mark a,b', 'unmark b'], 'a was sent before: it keeps its look-up')

    calls.length = 0
    authority.next.push(() => ({ kind: 'unknown', error: 'timeout' }))
    await deliverChain(authority, chainOf(['c']), marks)
    assert.deepEqual(calls, ['mark c'], 'after an unknown outcome the mark stays')

    calls.length = 0
    authority.next.push(() => ({ kind: 'retryable', error: 'wait', heldUntil: 1 }))
    await deliverChain(authority, chainOf(['d']), marks)
    assert.deepEqual(calls, [], 'held back before it left: never marked')
  })
})
