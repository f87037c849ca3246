import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { FR_CASE, FrPos, frReceipt, joseKey, jwsOf, verifiedPayload, verifyChains } from './support.ts'

const RATES = [20, 10, 5.5, 2.1, 0] as const
type Period = 'shift' | 'day' | 'month' | 'year' | 'perpetual'

const item = fc.tuple(fc.integer({ min: -5_000, max: 50_000 }), fc.constantFrom(...RATES))
const operation = fc.oneof(
  fc.record({
    kind: fc.constantFrom('pos', 'invoice', 'proForma', 'paymentTransfer', 'trainingPos'),
    items: fc.array(item, { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constantFrom('shift', 'daily', 'monthly', 'yearly', 'zero') }),
  fc.record({ kind: fc.constant('copy'), of: fc.nat() }),
)

/** The model: what each running total must hold, computed from the operations alone. */
class Model {
  totals = Object.fromEntries(
    (['shift', 'day', 'month', 'year', 'perpetual'] as Period[]).map((p) => [p, new Map<string, number>()]),
  ) as Record<Period, Map<string, number>>
  documents: Record<Period, number> = { shift: 0, day: 0, month: 0, year: 0, perpetual: 0 }
  add(items: ReadonlyArray<readonly [number, number]>) {
    for (const period of Object.keys(this.totals) as Period[]) {
      this.documents[period] += 1
      for (const [cents, rate] of items) {
        const key = rate.toFixed(2)
        this.totals[period].set(key, (this.totals[period].get(key) ?? 0) + cents)
      }
    }
  }
  reset(periods: readonly Period[]) {
    for (const period of periods) {
      this.totals[period] = new Map()
      this.documents[period] = 0
    }
  }
}

const ENDS: Record<string, Period[]> = {
  shift: ['shift'],
  daily: ['shift', 'day'],
  monthly: ['shift', 'day', 'month'],
  yearly: ['shift', 'day', 'month', 'year'],
  zero: [],
}

const decimal = (cents: number) => (cents / 100).toFixed(2)

describe('French totals over random receipt sequences', () => {
  let h: Harness
  before(async () => {
    h = await startHarness('sqlite')
  })
  after(() => h.close())

  test('every grand-total entry signs the sums of its documents per VAT rate; every chain verifies with jose', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 20 }), async (operations) => {
        const box = await h.runtime.cashboxes.create('FR')
        const pos = new FrPos(h.app, box)
        const key = await joseKey(box.publicKey)
        const signed = [await pos.signOk(frReceipt(FR_CASE.start))]
        const model = new Model()
        const references: string[] = []
        for (const op of operations) {
          if ('items' in op) {
            const body = frReceipt(
              FR_CASE[op.kind],
              op.items.map(([cents, rate]) => [decimal(cents), rate] as const),
            )
            signed.push(await pos.signOk(body))
            references.push(body.cbReceiptReference as string)
            if (op.kind === 'pos' || op.kind === 'invoice') model.add(op.items)
          } else if ('of' in op) {
            if (references.length === 0) continue
            const copied = references[op.of % references.length]
            signed.push(await pos.signOk(frReceipt(FR_CASE.copy, [], { cbPreviousReceiptReference: copied })))
          } else {
            const response = await pos.signOk(frReceipt(FR_CASE[op.kind]))
            signed.push(response)
            const { totals } = await verifiedPayload(jwsOf(response), key)
            for (const period of Object.keys(model.totals) as Period[]) {
              const expected = [...model.totals[period]]
              assert.equal(
                totals[period].documents,
                model.documents[period],
                `${op.kind}: ${period} documents`,
              )
              assert.deepEqual(
                Object.fromEntries(
                  Object.entries(totals[period].vat).map(([rate, v]: [string, any]) => [rate, v.gross]),
                ),
                Object.fromEntries(expected.map(([rate, cents]) => [rate, decimal(cents)])),
                `${op.kind}: ${period} per VAT rate`,
              )
              const sum = expected.reduce((s, [, cents]) => s + cents, 0)
              assert.equal(totals[period].total, decimal(sum), `${op.kind}: ${period} total`)
              for (const line of Object.values(totals[period].vat) as any[])
                assert.equal(
                  Math.round(Number(line.vat) * 100) + Math.round(Number(line.net) * 100),
                  Math.round(Number(line.gross) * 100),
                )
            }
            model.reset(ENDS[op.kind] ?? [])
          }
        }
        await verifyChains(signed.map(jwsOf), key)
      }),
      { numRuns: 30 },
    )
  })
})
