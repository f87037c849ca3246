import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  type FpmateResponse,
  readFiscalReceiptAnswer,
  readZReportAnswer,
} from '../../../src/markets/it/fpmate/index.ts'
import { RtDevice } from '../../../src/markets/it/simulator/device.ts'
import { newDeviceState } from '../../../src/markets/it/simulator/state.ts'
import { returnOf, sale, zReport } from './support.ts'

type Action =
  | { kind: 'sale'; amount: number }
  | { kind: 'return'; pick: number; void: boolean }
  | { kind: 'z' }

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('sale' as const),
      amount: fc.integer({ min: 1, max: 100_000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('return' as const), pick: fc.nat(), void: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('z' as const) }) },
)

const response = (answer: ReturnType<RtDevice['handle']>): FpmateResponse => {
  assert.ok('response' in answer)
  return answer.response
}

describe('the RT device against a model of its counters', () => {
  it('numbers documents within each Z, closes the takings, and lets each sale be returned or voided once', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 40 }), (actions) => {
        const serialNumber = '99IEZ000001'
        const device = new RtDevice(newDeviceState(serialNumber), {
          clock: () => Date.parse('2026-05-04T10:00:00Z'),
        })
        const model = { z: 1, doc: 0, daily: 0 }
        const sales: { z: number; doc: number; amount: number; done: boolean }[] = []
        for (const step of actions) {
          if (step.kind === 'sale') {
            const answer = readFiscalReceiptAnswer(
              response(device.handle(sale([{ unitPrice: step.amount }]))),
            )
            model.doc += 1
            model.daily += step.amount
            assert.deepEqual(
              [answer.zNumber, answer.documentNumber, answer.amount],
              [model.z, model.doc, step.amount],
            )
            sales.push({ z: model.z, doc: model.doc, amount: step.amount, done: false })
          } else if (step.kind === 'return') {
            const original = sales[step.pick % Math.max(sales.length, 1)]
            if (!original) continue
            const reference = {
              kind: step.void ? 'VOID' : 'REFUND',
              zNumber: original.z,
              documentNumber: original.doc,
              date: '2026-05-04',
              serialNumber,
            } as const
            const answer = response(device.handle(returnOf(reference, original.amount)))
            if (original.done) {
              assert.equal(answer.success, false)
              assert.ok([39, 40].includes(answer.status), `status ${answer.status}`)
              continue
            }
            original.done = true
            model.doc += 1
            model.daily -= original.amount
            assert.equal(readFiscalReceiptAnswer(answer).documentNumber, model.doc)
          } else {
            const answer = readZReportAnswer(response(device.handle(zReport)))
            assert.deepEqual([answer.zNumber, answer.dailyAmount], [model.z, model.daily])
            model.z += 1
            model.doc = 0
            model.daily = 0
          }
        }
        assert.deepEqual(
          [device.state.zNumber, device.state.documentNumber, device.state.dailyAmount],
          [model.z, model.doc, model.daily],
        )
      }),
    )
  })
})
