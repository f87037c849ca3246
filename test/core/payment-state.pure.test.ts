import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  isSettled,
  type PaymentEvent,
  PAYMENT_STATES,
  type PaymentState,
  transition,
} from '../../src/core/payments/payment.ts'

const EVENTS: PaymentEvent[] = [
  'accepted',
  'approved',
  'declined',
  'timed_out',
  'aborted',
  'cancelled_by_reversal',
  'refunded_fully',
]
const FINAL: PaymentState[] = ['declined', 'cancelled', 'timed_out', 'refunded']

/** Runs events from `requested`, ignoring those the state does not allow (as the service does). */
function run(events: PaymentEvent[]): PaymentState[] {
  const path: PaymentState[] = ['requested']
  for (const event of events) {
    const next = transition(path[path.length - 1] as PaymentState, event)
    if (next) path.push(next)
  }
  return path
}

test('the payment states are those of docs/payments.md: requested, in progress, and the five outcomes', () => {
  assert.deepEqual([...PAYMENT_STATES].sort(), [
    'cancelled',
    'declined',
    'in_progress',
    'refunded',
    'requested',
    'succeeded',
    'timed_out',
  ])
})

test('any sequence of events: never back to requested, final states absorb, money moves only after approval', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...EVENTS), { maxLength: 30 }), (events) => {
      const path = run(events)
      assert.ok(!path.slice(1).includes('requested'))
      const firstFinal = path.findIndex((s) => FINAL.includes(s))
      if (firstFinal >= 0)
        assert.equal(path.length, firstFinal + 1, `left a final state: ${path.join(' > ')}`)
      const refunded = path.indexOf('refunded')
      if (refunded >= 0) assert.equal(path[refunded - 1], 'succeeded', 'only a succeeded payment is refunded')
      // A terminal's answer settles a payment at most once.
      const settledAt = path.findIndex(isSettled)
      if (settledAt >= 0) {
        for (const state of path.slice(settledAt + 1)) assert.ok(['cancelled', 'refunded'].includes(state))
      }
    }),
  )
})

test('the terminal answers map to their states from requested and in progress alike', () => {
  for (const from of ['requested', 'in_progress'] as const) {
    assert.equal(transition(from, 'approved'), 'succeeded')
    assert.equal(transition(from, 'declined'), 'declined')
    assert.equal(transition(from, 'timed_out'), 'timed_out')
    assert.equal(transition(from, 'aborted'), 'cancelled')
    assert.equal(transition(from, 'refunded_fully'), undefined)
  }
  assert.equal(transition('succeeded', 'declined'), undefined, 'a settled payment ignores late answers')
})
