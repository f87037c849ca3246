import { seededRandom } from '../../es/simulator/faults.ts'
import type { DeviceConditions } from './device.ts'

/**
 * Faults of the network path and the firmware, decided per fpmate request from a seeded generator so
 * that a run can be repeated exactly.
 */
export interface DeviceFaults {
  /** Share of requests refused with PRINTER ERROR 17 before anything is done. */
  errorRate: number
  /** Share of requests the firmware never answers: held for the request's `timeout`, then LAN_TIME_OUT, nothing done. */
  hangRate: number
  /** Share of requests carried out (printed, journaled) whose connection is then cut without an answer. */
  dropAfterPrintRate: number
  /** Every fpmate connection is cut on arrival, nothing done (the control endpoints still answer). */
  offline: boolean
  seed: number
}

export const NO_DEVICE_FAULTS: DeviceFaults = {
  errorRate: 0,
  hangRate: 0,
  dropAfterPrintRate: 0,
  offline: false,
  seed: 1,
}

export type FaultDecision = 'error' | 'hang' | 'drop-after-print' | 'none'

export class DeviceFaultInjector {
  private random: () => number
  constructor(public config: DeviceFaults) {
    this.random = seededRandom(config.seed)
  }

  reconfigure(change: Partial<DeviceFaults>): void {
    this.config = { ...this.config, ...change }
    if (change.seed !== undefined) this.random = seededRandom(change.seed)
  }

  decide(): FaultDecision {
    const { errorRate, hangRate, dropAfterPrintRate } = this.config
    const r = this.random()
    if (r < errorRate) return 'error'
    if (r < errorRate + hangRate) return 'hang'
    if (r < errorRate + hangRate + dropAfterPrintRate) return 'drop-after-print'
    return 'none'
  }
}

const RATES = ['errorRate', 'hangRate', 'dropAfterPrintRate'] as const
const SWITCHES = ['offline', 'paperOut', 'coverOpen', 'busy'] as const

export type ControlChange = Partial<DeviceFaults & DeviceConditions>

/** Reads a PUT /_sim/faults body; an error names the field and what it takes. */
export function readControlChange(body: unknown): ControlChange {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new Error('the body must be a JSON object, e.g. {"paperOut": true, "errorRate": 0.1}')
  const change: Record<string, number | boolean> = {}
  for (const [name, value] of Object.entries(body)) {
    if ((RATES as readonly string[]).includes(name)) {
      if (typeof value !== 'number' || !(value >= 0 && value <= 1))
        throw new Error(`${name} must be a fraction from 0 to 1, e.g. 0.3`)
    } else if ((SWITCHES as readonly string[]).includes(name)) {
      if (typeof value !== 'boolean') throw new Error(`${name} must be true or false`)
    } else if (name === 'seed') {
      if (!Number.isSafeInteger(value)) throw new Error('seed must be a whole number')
    } else
      throw new Error(
        `${name} is not a fault or condition; use ${[...RATES, ...SWITCHES, 'seed'].join(', ')}`,
      )
    change[name] = value as number | boolean
  }
  return change as ControlChange
}
