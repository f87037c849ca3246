import type { PayAction } from '../core/payments/payment.ts'
import { PaymentProviders, type ProtocolRegistration } from '../core/payments/providers.ts'
import { PaymentSimulator } from './simulator.ts'

const ALL: readonly PayAction[] = ['payment', 'cancel', 'refund', 'pre_authorization']
const NO_PRE_AUTH: readonly PayAction[] = ['payment', 'cancel', 'refund']

/**
 * The protocols of the POS System API's protocol table (docs/payments.md) with the actions each supports. No adapter is installed
 * for them yet: a real one is a PaymentProvider (docs/payments.md) set as `provider` here, nothing else.
 */
const PROTOCOLS: ProtocolRegistration[] = [
  { protocol: 'bluecode', actions: NO_PRE_AUTH },
  { protocol: 'hobex_zvt', actions: ALL },
  { protocol: 'hobex_restapi', actions: ALL },
  { protocol: 'payone_softpos_wpi', actions: NO_PRE_AUTH },
  { protocol: 'worldline_wpi_2', actions: NO_PRE_AUTH },
]

export interface PaymentConfig {
  /** The simulator terminal, or false to leave it out (production). */
  simulator: PaymentSimulator | false
}

/** Every protocol this server knows, configured ones first: the order use_first and use_auto follow. */
export function createPaymentProviders(config: PaymentConfig): PaymentProviders {
  const simulator: ProtocolRegistration[] = config.simulator
    ? [{ protocol: 'simulator', actions: ALL, provider: config.simulator }]
    : []
  return new PaymentProviders([...simulator, ...PROTOCOLS])
}
