/**
 * A payment operation's life: persisted as `requested` before the terminal is asked, `in_progress` once the
 * terminal took it, then one final state. A succeeded payment can still be reversed later by a cancel or
 * refund operation of its own; that moves the original to `cancelled` or (once fully refunded) `refunded`.
 */
export const PAY_ACTIONS = ['payment', 'cancel', 'refund', 'pre_authorization'] as const
export type PayAction = (typeof PAY_ACTIONS)[number]

export const PAYMENT_STATES = [
  'requested',
  'in_progress',
  'succeeded',
  'declined',
  'cancelled',
  'timed_out',
  'refunded',
] as const
export type PaymentState = (typeof PAYMENT_STATES)[number]

/** What can happen to a payment: the terminal's answers, and reversals by later operations. */
export type PaymentEvent =
  | 'accepted'
  | 'approved'
  | 'declined'
  | 'timed_out'
  | 'aborted'
  | 'cancelled_by_reversal'
  | 'refunded_fully'

const TRANSITIONS: Record<PaymentState, Partial<Record<PaymentEvent, PaymentState>>> = {
  requested: {
    accepted: 'in_progress',
    approved: 'succeeded',
    declined: 'declined',
    timed_out: 'timed_out',
    aborted: 'cancelled',
  },
  in_progress: { approved: 'succeeded', declined: 'declined', timed_out: 'timed_out', aborted: 'cancelled' },
  succeeded: { cancelled_by_reversal: 'cancelled', refunded_fully: 'refunded' },
  declined: {},
  cancelled: {},
  timed_out: {},
  refunded: {},
}

/** The next state, or undefined when the event is not allowed in this state (it must then be ignored). */
export function transition(state: PaymentState, event: PaymentEvent): PaymentState | undefined {
  return TRANSITIONS[state][event]
}

/** Settled: the terminal has answered. A succeeded payment is settled but may still be reversed. */
export const isSettled = (state: PaymentState): boolean => state !== 'requested' && state !== 'in_progress'

/** Actions that move money to the merchant, and so can be reversed by cancel or refund. */
export const isReversible = (action: PayAction): boolean =>
  action === 'payment' || action === 'pre_authorization'
