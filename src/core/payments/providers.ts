import { invalid } from '../errors.ts'
import type { PayAction } from './payment.ts'
import { DeviceNotReachable, type PaymentProvider } from './provider.ts'

/**
 * A protocol the server knows by name. `provider` is absent for a protocol whose adapter is not installed
 * or not configured here: it is then refused with a clear 400 instead of being unknown.
 */
export interface ProtocolRegistration {
  protocol: string
  actions: readonly PayAction[]
  provider?: PaymentProvider
}

/** Protocol values that pick a provider instead of naming one (POS System API devkit). */
export const USE_AUTO = 'use_auto'
export const USE_FIRST = 'use_first'

/** The payment providers of this server in their configured order, and Protocol resolution. */
export class PaymentProviders {
  private readonly byName = new Map<string, ProtocolRegistration>()

  constructor(private readonly registrations: readonly ProtocolRegistration[]) {
    for (const registration of registrations) this.byName.set(registration.protocol, registration)
  }

  /** Every protocol name the server knows, configured or not. */
  names(): string[] {
    return this.registrations.map((r) => r.protocol)
  }

  get(protocol: string): PaymentProvider | undefined {
    return this.byName.get(protocol)?.provider
  }

  /**
   * `use_first`: the first configured provider that supports the action. `use_auto`: the first of those
   * that says it is reachable, so an offline terminal is skipped. A name: that provider.
   */
  async resolve(
    protocol: string,
    action: PayAction,
    terminalId: string | undefined,
  ): Promise<PaymentProvider> {
    if (protocol === USE_FIRST || protocol === USE_AUTO) {
      const candidates = this.registrations.flatMap((r) =>
        r.provider && r.actions.includes(action) ? [r.provider] : [],
      )
      if (candidates.length === 0) {
        throw invalid('Protocol', `no configured payment provider supports the action ${action}`)
      }
      if (protocol === USE_FIRST) return candidates[0] as PaymentProvider
      for (const candidate of candidates) if (await candidate.reachable(terminalId)) return candidate
      throw new DeviceNotReachable(
        `no payment provider supporting ${action} is reachable (tried ${candidates.map((c) => c.protocol).join(', ')})`,
        terminalId,
        undefined,
      )
    }
    const registration = this.byName.get(protocol)
    if (!registration) {
      throw invalid(
        'Protocol',
        `unknown protocol ${JSON.stringify(protocol.slice(0, 60))}: use ${[USE_AUTO, USE_FIRST, ...this.names()].join(', ')}`,
      )
    }
    if (!registration.actions.includes(action)) {
      throw invalid('Action', `${protocol} supports ${registration.actions.join(', ')}, not ${action}`)
    }
    if (!registration.provider) {
      throw invalid(
        'Protocol',
        `${protocol} is a known protocol, but no adapter for it is installed and configured on this server (see docs/payments.md)`,
      )
    }
    return registration.provider
  }
}
