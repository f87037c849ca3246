import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type AuthorityClient, type ChainRecord, deliverChain } from '../../../src/core/delivery.ts'
import type { SpanishAuthority } from '../../../src/markets/es/authority.ts'
import { SpanishDelivery, type SpanishRecord } from '../../../src/markets/es/delivery.ts'
import { spanishAuthorityFor } from '../../../src/markets/es/index.ts'
import { startSimulator } from '../../../src/markets/es/simulator/app.ts'
import { chainAlta, emptyChain, type VerifactuRecord } from '../../../src/markets/es/verifactu/records.ts'
import { SYSTEM, sampleChain } from './support.ts'

type Sim = Awaited<ReturnType<typeof startSimulator>>
const TAXPAYER = { nif: 'B12345678', name: 'Bar Ejemplo & Cía' }

describe('SpanishAuthority for the outbox worker', () => {
  let sim: Sim
  before(async () => {
    sim = await startSimulator({ faults: { holdMs: 5_000 } })
  })
  after(() => sim.close())

  const verifactu = (timeoutMs = 5_000) => {
    const made = spanishAuthorityFor(
      { system: 'verifactu', taxpayer: TAXPAYER, environment: 'test', timeoutMs },
      { simulatorUrl: sim.url },
    )
    assert.equal(made.system, 'verifactu')
    return made.system === 'verifactu' ? made.authority : assert.fail()
  }

  it('a test location goes to the simulator; TicketBAI needs a territory, and endpoints in production', () => {
    assert.throws(
      () =>
        spanishAuthorityFor(
          { system: 'ticketbai', taxpayer: TAXPAYER, environment: 'test' },
          { simulatorUrl: sim.url },
        ),
      /territory/,
    )
    assert.throws(
      () =>
        spanishAuthorityFor({
          system: 'ticketbai',
          territory: 'gipuzkoa',
          taxpayer: TAXPAYER,
          environment: 'production',
        }),
      /endpoints/,
    )
    const tbai = spanishAuthorityFor(
      { system: 'ticketbai', territory: 'bizkaia', taxpayer: TAXPAYER, environment: 'test' },
      { simulatorUrl: sim.url },
    )
    assert.equal(tbai.authority.maxBatch, 1000)
    assert.equal(verifactu().maxBatch, 1000)
  })

  /** The one Spanish delivery client over an authority, keeping the records as they are. */
  const delivery = (authority: ReturnType<typeof verifactu>) =>
    new SpanishDelivery<SpanishRecord, string>(
      authority as SpanishAuthority<SpanishRecord>,
      (record) => record,
      (statement) => statement.state,
    )

  it('after lost answers, a look-up tells a registered record, a missing one and another one under its number', async () => {
    const records = sampleChain(6, new Date('2025-10-01T08:00:00Z'))
    sim.faults.reconfigure({ timeoutRate: 1 })
    assert.equal((await verifactu(300).submit(records.slice(0, 3))).kind, 'unknown')
    sim.faults.reconfigure({ timeoutRate: 0, dropRate: 1 })
    assert.equal((await verifactu(300).submit(records.slice(3))).kind, 'unknown')
    sim.faults.reconfigure({ dropRate: 0 })
    const client = delivery(verifactu())
    const found = await Promise.all(records.map((r) => client.query(r)))
    assert.deepEqual(
      found.map((f) => f.kind),
      ['registered', 'registered', 'registered', 'not_registered', 'not_registered', 'not_registered'],
    )
    // Same invoice number, other content: the authority holds a record that is not this one.
    const other = { ...(records[0] as VerifactuRecord), huella: 'F'.repeat(64) }
    const conflicting = await client.query(other)
    assert.equal(conflicting.kind, 'conflicting')
    assert.match(conflicting.kind === 'conflicting' ? conflicting.error : '', /needs a person/)
  })

  it('a worker loop through 30 % errors, lost answers and an outage ends with every record registered once', async () => {
    const issuer = { nif: 'C22222222', name: 'Cadena' }
    let state = emptyChain()
    const records: VerifactuRecord[] = []
    for (let i = 1; i <= 120; i++) {
      const made = chainAlta(
        state,
        {
          issuer,
          seriesNumber: `W-${i}`,
          issueDate: '2025-11-03',
          invoiceType: 'F2',
          description: 'Venta',
          lines: [{ rateBasisPoints: 2100, baseCents: 100 * i, taxCents: 21 * i }],
          generatedAt: new Date('2025-11-03T09:00:00Z'),
        },
        SYSTEM,
      )
      records.push(made.record)
      state = made.state
    }
    const authority = spanishAuthorityFor(
      { system: 'verifactu', taxpayer: issuer, environment: 'test', timeoutMs: 250 },
      { simulatorUrl: sim.url },
    ).authority as ReturnType<typeof verifactu>
    sim.faults.reconfigure({
      errorRate: 0.3,
      timeoutRate: 0.1,
      dropRate: 0.05,
      seed: 7,
      outages: [{ from: Date.now(), to: Date.now() + 400 }],
    })
    // The outbox's part, in memory: each round delivers what is not settled, in chain order, asking first
    // for a record whose submission may have reached the authority; the authority's duplicates count resends.
    const spanish = delivery(authority)
    // 25 records a submission (not 1000) so that many rounds meet the faults.
    const client: AuthorityClient<SpanishRecord, string> = {
      maxBatch: 25,
      mayShare: (first, next) => spanish.mayShare(first, next),
      submit: (batch, hooks) => spanish.submit(batch, hooks),
      query: (record) => spanish.query(record),
    }
    const sent = new Set<SpanishRecord>()
    const marks = {
      mark: async (batch: readonly SpanishRecord[]) => void batch.forEach((r) => sent.add(r)),
      unmark: async (batch: readonly SpanishRecord[]) => void batch.forEach((r) => sent.delete(r)),
    }
    const duplicatesBefore = sim.aeat.duplicates
    let pending: SpanishRecord[] = records
    for (let round = 0; pending.length > 0 && round < 500; round++) {
      const chain: ChainRecord<SpanishRecord>[] = pending.map((record, i) => ({
        record,
        position: i,
        askFirst: sent.has(record),
      }))
      const verdicts = await deliverChain(client, chain, marks)
      for (const verdict of verdicts.values())
        assert.notEqual(verdict.kind, 'refused', JSON.stringify(verdict))
      pending = chain.filter((item) => verdicts.get(item)?.kind !== 'settled').map((item) => item.record)
    }
    sim.faults.reconfigure({ errorRate: 0, timeoutRate: 0, dropRate: 0, outages: [] })
    assert.equal(pending.length, 0, 'every record ended registered')
    assert.equal(sim.aeat.duplicates, duplicatesBefore, 'nothing was sent twice after an unknown outcome')
    const registered = [...sim.aeat.invoices.values()].filter((i) => i.issuerNif === issuer.nif)
    assert.equal(registered.length, 120)
    assert.ok(
      registered.every((i) => i.state === 'Correcta'),
      'the chain arrived intact and in order',
    )
  })
})
