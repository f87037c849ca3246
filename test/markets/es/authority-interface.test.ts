import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { batches, reconcile, spanishAuthorityFor } from '../../../src/markets/es/index.ts'
import { startSimulator } from '../../../src/markets/es/simulator/app.ts'
import {
  chainAlta,
  emptyChain,
  type VerifactuRecord,
  recordKey,
} from '../../../src/markets/es/verifactu/records.ts'
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

  it('reconcile sorts an unknown outcome into registered, resend and conflicting', async () => {
    const records = sampleChain(6, new Date('2025-10-01T08:00:00Z'))
    sim.faults.reconfigure({ timeoutRate: 1 })
    assert.equal((await verifactu(300).submit(records.slice(0, 3))).kind, 'unknown')
    sim.faults.reconfigure({ timeoutRate: 0, dropRate: 1 })
    assert.equal((await verifactu(300).submit(records.slice(3))).kind, 'unknown')
    sim.faults.reconfigure({ dropRate: 0 })
    const sorted = await reconcile(verifactu(), records)
    assert.deepEqual(sorted.registered.map(recordKey), records.slice(0, 3).map(recordKey))
    assert.deepEqual(sorted.resend.map(recordKey), records.slice(3).map(recordKey))
    // Same invoice number, other content: the authority holds a record that is not this one.
    const other = { ...(records[0] as VerifactuRecord), huella: 'F'.repeat(64) }
    assert.equal((await reconcile(verifactu(), [other])).conflicting.length, 1)
  })

  it('batches keep chain order and never exceed the limit', () => {
    const parts = batches([...Array(2501).keys()], 1000)
    assert.deepEqual(
      parts.map((p) => p.length),
      [1000, 1000, 501],
    )
    assert.deepEqual(parts.flat(), [...Array(2501).keys()])
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
    const pending = new Map(records.map((r) => [recordKey(r), r]))
    const uncertain = new Set<string>()
    let duplicates = 0
    for (let round = 0; pending.size > 0 && round < 500; round++) {
      if (uncertain.size > 0) {
        const sorted = await reconcile(
          authority,
          [...uncertain].map((k) => pending.get(k) as VerifactuRecord),
        )
        for (const r of sorted.registered) {
          pending.delete(recordKey(r))
          uncertain.delete(recordKey(r))
        }
        for (const r of sorted.resend) uncertain.delete(recordKey(r))
        assert.equal(sorted.conflicting.length, 0)
        if (uncertain.size > 0) continue
      }
      // In chain order, 25 at a time (smaller than 1000 so that many rounds meet the faults).
      const batch = [...pending.values()].slice(0, 25)
      const result = await authority.submit(batch)
      if (result.kind === 'unknown') for (const r of batch) uncertain.add(recordKey(r))
      if (result.kind !== 'answered') continue
      for (const outcome of result.outcomes) {
        if (outcome.status === 'duplicate') duplicates++
        assert.notEqual(outcome.status, 'rejected', JSON.stringify(outcome))
        pending.delete(outcome.key)
      }
    }
    sim.faults.reconfigure({ errorRate: 0, timeoutRate: 0, dropRate: 0, outages: [] })
    assert.equal(pending.size, 0, 'every record ended registered')
    assert.equal(duplicates, 0, 'nothing was sent twice after an unknown outcome')
    const registered = [...sim.aeat.invoices.values()].filter((i) => i.issuerNif === issuer.nif)
    assert.equal(registered.length, 120)
    assert.ok(
      registered.every((i) => i.state === 'Correcta'),
      'the chain arrived intact and in order',
    )
  })
})
