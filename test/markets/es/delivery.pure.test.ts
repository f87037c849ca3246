import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type {
  QueryResult,
  SpanishAuthority,
  SubmissionResult,
  SubmitOptions,
} from '../../../src/markets/es/authority.ts'
import { keyOf, SpanishDelivery, type SpanishRecord } from '../../../src/markets/es/delivery.ts'
import type { TicketBaiRecord } from '../../../src/markets/es/ticketbai/issue.ts'
import { sampleChain } from './support.ts'

/**
 * The one Spanish delivery client over a Spanish authority that answers as each test tells it: how the
 * authority's results become the delivery contract's (core/delivery.ts).
 */
class ScriptedAuthority implements SpanishAuthority<SpanishRecord> {
  sent: SpanishRecord[][] = []
  constructor(
    readonly maxBatch: number,
    private readonly result: (records: readonly SpanishRecord[]) => SubmissionResult,
    private readonly found: QueryResult = { kind: 'not_registered' },
  ) {}

  async submit(records: readonly SpanishRecord[], options?: SubmitOptions) {
    await options?.sending?.()
    this.sent.push([...records])
    return this.result(records)
  }

  async query() {
    return this.found
  }
}

const said = (statement: { status: string; state: string }) => `${statement.status} ${statement.state}`
const clientOf = (authority: SpanishAuthority<SpanishRecord>) =>
  new SpanishDelivery<SpanishRecord, string>(authority, (record) => record, said)
const sending = { sending: async () => {} }

const [alta1, alta2, alta3] = sampleChain(3)
const tbai = (kind: 'alta' | 'anulacion', number: string): TicketBaiRecord => ({
  kind,
  territory: 'gipuzkoa',
  issuerNif: 'B12345674',
  series: 'T-',
  number,
  issueDate: '09-03-2026',
  total: '1.21',
  identifier: '',
  qrUrl: '',
  signatureValue: '',
  xml: '',
})

describe('SpanishDelivery: a Spanish authority as the delivery contract takes it', () => {
  test('answers are matched to the submitted records by key; a duplicate is left to a look-up', async () => {
    const records = [alta1, alta2, alta3] as SpanishRecord[]
    const authority = new ScriptedAuthority(1000, () => ({
      kind: 'answered',
      waitSeconds: 60,
      nextSubmissionAt: new Date(0),
      // In another order than sent, one missing.
      outcomes: [
        { key: keyOf(records[2] as SpanishRecord), status: 'duplicate', authorityState: 'Incorrecto' },
        {
          key: keyOf(records[0] as SpanishRecord),
          status: 'rejected',
          authorityState: 'Incorrecto',
          code: '1100',
          description: 'Valor incorrecto',
        },
      ],
    }))
    const result = await clientOf(authority).submit(records, sending)
    assert.deepEqual(result, {
      kind: 'answered',
      answers: [
        {
          kind: 'refused',
          error: 'rejected by the authority: Incorrecto 1100 Valor incorrecto',
          answer: 'rejected Incorrecto',
        },
        undefined,
        { kind: 'duplicate' },
      ],
    })
  })

  test("the authority's waits become epoch milliseconds; an unknown outcome stays unknown", async () => {
    const held = new ScriptedAuthority(1000, () => ({
      kind: 'retryable',
      reason: 'TiempoEsperaEnvio',
      retryAfterSeconds: 2,
      heldUntil: new Date(60_000),
    }))
    assert.deepEqual(await clientOf(held).submit([alta1 as SpanishRecord], sending), {
      kind: 'retryable',
      error: 'TiempoEsperaEnvio',
      retryAfterMs: 2_000,
      heldUntil: 60_000,
    })
    const lost = new ScriptedAuthority(1000, () => ({ kind: 'unknown', reason: 'timeout' }))
    assert.deepEqual(await clientOf(lost).submit([alta1 as SpanishRecord], sending), {
      kind: 'unknown',
      error: 'timeout',
    })
  })

  test('a look-up finds this record, none, or another one under its number', async () => {
    const record = alta1 as SpanishRecord
    const answer = (found: QueryResult) =>
      clientOf(new ScriptedAuthority(1, () => assert.fail('nothing is sent'), found)).query(record)
    assert.deepEqual(await answer({ kind: 'registered', sameRecord: true, authorityState: 'Correcta' }), {
      kind: 'registered',
      answer: 'accepted Correcta',
    })
    assert.deepEqual(await answer({ kind: 'not_registered' }), { kind: 'not_registered' })
    assert.deepEqual(await answer({ kind: 'retryable', reason: '503' }), { kind: 'retryable', error: '503' })
    const other = await answer({ kind: 'registered', sameRecord: false, authorityState: 'Correcta' })
    assert.equal(other.kind, 'conflicting')
    assert.match(other.kind === 'conflicting' ? other.error : '', /different record .* needs a person/)
  })

  test('VERI*FACTU takes altas and anulaciones together; a TicketBAI submission one kind', () => {
    const client = clientOf(new ScriptedAuthority(1, () => assert.fail('nothing is sent')))
    const anulacion = { ...(alta2 as SpanishRecord), kind: 'anulacion' } as SpanishRecord
    assert.equal(client.mayShare(alta1 as SpanishRecord, anulacion), true)
    assert.equal(client.mayShare(tbai('alta', '1'), tbai('alta', '2')), true)
    assert.equal(client.mayShare(tbai('alta', '1'), tbai('anulacion', '1')), false)
    assert.equal(client.maxBatch, 1)
  })
})
