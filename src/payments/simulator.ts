import { randomBytes } from 'node:crypto'
import { PAY_ACTIONS } from '../core/payments/payment.ts'
import {
  DeviceNotReachable,
  type PaymentProvider,
  type ProviderOutcome,
  type ProviderTransaction,
  type RunHooks,
} from '../core/payments/provider.ts'

export type SimulatedOutcome = 'approve' | 'decline' | 'timeout' | 'abort'

export interface SimulatorOptions {
  /** What every transaction ends with unless its request says otherwise (default approve). */
  outcome?: SimulatedOutcome
  /** Milliseconds a transaction takes at the terminal (default 0). */
  latencyMs?: number
  /** Start offline: every call fails with device_not_reachable until setOffline(false). */
  offline?: boolean
}

/** A transaction as the simulated terminal remembers it. */
export interface SimulatedTransaction {
  reference: string
  action: ProviderTransaction['action']
  amount: string
  outcome: Promise<ProviderOutcome>
  /** Set once the terminal has finished it. */
  result?: ProviderOutcome
}

const ERROR_CODES: Record<Exclude<SimulatedOutcome, 'approve'>, string> = {
  decline: 'CARD_DECLINED',
  timeout: 'TIMEOUT',
  abort: 'CANCELLED_BY_CUSTOMER',
}

/**
 * The built-in `simulator` terminal, for tests and the demo. It behaves like a real terminal in the ways
 * that matter to fiscalbox: a transaction takes time, can be declined, time out or be aborted, the
 * device can be offline, and a second run() with a known reference joins the first instead of charging
 * again. Per transaction, cbPayItem.ftPayItemCaseData.Provider.ProtocolRequest.Simulate
 * `{Outcome, ErrorCode, LatencyMs}` overrides the defaults. Its memory is the process's: like a terminal
 * switched off, it forgets everything on restart.
 */
export class PaymentSimulator implements PaymentProvider {
  readonly protocol = 'simulator'
  readonly actions = PAY_ACTIONS
  private readonly transactions = new Map<string, SimulatedTransaction>()
  private offline: boolean
  private gate: Promise<void> | undefined
  private openGate: (() => void) | undefined
  private lastContact: string | undefined

  constructor(private readonly options: SimulatorOptions = {}) {
    this.offline = options.offline ?? false
  }

  setOffline(offline: boolean): void {
    this.offline = offline
  }

  /**
   * Keeps every transaction at the terminal (in progress) until the returned function is called, as a
   * customer who has not presented the card yet: lets tests hold a payment open without timing.
   */
  hold(): () => void {
    if (!this.gate) {
      this.gate = new Promise<void>((resolve) => {
        this.openGate = resolve
      })
    }
    return () => {
      this.openGate?.()
      this.gate = undefined
      this.openGate = undefined
    }
  }

  /** Every transaction the terminal has seen, in order: tests count charges here. */
  ledger(): SimulatedTransaction[] {
    return [...this.transactions.values()]
  }

  async reachable(): Promise<boolean> {
    return !this.offline
  }

  run(transaction: ProviderTransaction, hooks: RunHooks): Promise<ProviderOutcome> {
    const known = this.transactions.get(transaction.reference)
    if (known) {
      hooks.accepted()
      return known.outcome
    }
    if (this.offline) {
      return Promise.reject(
        new DeviceNotReachable(
          `the simulator terminal ${transaction.terminalId ?? '(default)'} is offline`,
          transaction.terminalId ?? 'simulator',
          this.lastContact,
        ),
      )
    }
    this.lastContact = new Date().toISOString()
    const simulate = simulateOptions(transaction.protocolRequest)
    const outcome = simulate.Outcome ?? this.options.outcome ?? 'approve'
    const latency = simulate.LatencyMs ?? this.options.latencyMs ?? 0
    const gate = this.gate
    const run = async (): Promise<ProviderOutcome> => {
      await gate
      if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency))
      return finish(transaction, outcome, simulate.ErrorCode)
    }
    const entry: SimulatedTransaction = {
      reference: transaction.reference,
      action: transaction.action,
      amount: transaction.amountText,
      outcome: run().then((result) => {
        entry.result = result
        return result
      }),
    }
    this.transactions.set(transaction.reference, entry)
    hooks.accepted()
    return entry.outcome
  }
}

function simulateOptions(request: Record<string, unknown>): {
  Outcome?: SimulatedOutcome
  ErrorCode?: string
  LatencyMs?: number
} {
  const simulate = request.Simulate
  if (typeof simulate !== 'object' || simulate === null) return {}
  const s = simulate as Record<string, unknown>
  const outcomes: SimulatedOutcome[] = ['approve', 'decline', 'timeout', 'abort']
  return {
    ...(outcomes.includes(s.Outcome as SimulatedOutcome) ? { Outcome: s.Outcome as SimulatedOutcome } : {}),
    ...(typeof s.ErrorCode === 'string' ? { ErrorCode: s.ErrorCode.slice(0, 40) } : {}),
    ...(typeof s.LatencyMs === 'number' && s.LatencyMs >= 0
      ? { LatencyMs: Math.min(s.LatencyMs, 120_000) }
      : {}),
  }
}

function finish(
  transaction: ProviderTransaction,
  outcome: SimulatedOutcome,
  errorCode: string | undefined,
): ProviderOutcome {
  if (outcome === 'approve') {
    return {
      status: 'approved',
      transactionId: `SIM-${randomBytes(6).toString('hex').toUpperCase()}`,
      details: {
        CardBrand: 'SIMULATED VISA',
        MaskedPan: '************4242',
        ApprovalCode: randomBytes(3).toString('hex').toUpperCase(),
        TerminalId: transaction.terminalId ?? 'SIM-1',
      },
    }
  }
  const messages: Record<Exclude<SimulatedOutcome, 'approve'>, string> = {
    decline: 'the card was declined',
    timeout: 'no card was presented before the terminal timed out',
    abort: 'the transaction was aborted at the terminal',
  }
  const status = outcome === 'decline' ? 'declined' : outcome === 'timeout' ? 'timed_out' : 'aborted'
  return { status, errorCode: errorCode ?? ERROR_CODES[outcome], message: messages[outcome] }
}
