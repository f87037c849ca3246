import { invalid } from '../../../core/errors.ts'
import { TERRITORY_RULES, type Territory } from './territories.ts'

/**
 * When Bizkaia's LROE batches go out. The Batuz channel takes invoices in batches; fiscalbox sends one per
 * location a day at a fixed UTC time (02:00 by default, as the transactions API's reference says), or, for
 * test set-ups that want answers at once, as soon as each record is stored (`immediate`).
 */
export type LroeSchedule = { kind: 'daily'; minuteOfDay: number } | { kind: 'immediate' }

export const DEFAULT_LROE_AT = '02:00'
/** `HH:MM` (UTC, 24 h) or `immediate`; the pattern of FISCALBOX_ES_LROE_AT. */
export const LROE_AT_PATTERN = '^(immediate|([01][0-9]|2[0-3]):[0-5][0-9])$'

export function parseLroeSchedule(text: string): LroeSchedule {
  if (!new RegExp(LROE_AT_PATTERN).test(text)) throw invalid('lroeAt', 'must be HH:MM (UTC) or immediate')
  if (text === 'immediate') return { kind: 'immediate' }
  const [hours, minutes] = text.split(':').map(Number) as [number, number]
  return { kind: 'daily', minuteOfDay: hours * 60 + minutes }
}

/** The first batch time strictly after `now`; undefined when batches go out at once. */
export function nextLroeWindow(schedule: LroeSchedule, now: Date): Date | undefined {
  if (schedule.kind === 'immediate') return undefined
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())
  const at = today + schedule.minuteOfDay * 60_000
  return new Date(at > now.getTime() ? at : at + 86_400_000)
}

/**
 * Until when a record of this territory is held for its LROE batch: Bizkaia's records (v1 locations and ES
 * cash boxes alike) wait for the next batch time; other territories, VERI*FACTU and `immediate`: not held.
 */
export function lroeHoldOf(
  schedule: LroeSchedule,
  territory: Territory | undefined,
  now: Date,
): Date | undefined {
  return territory !== undefined && TERRITORY_RULES[territory].channel === 'lroe'
    ? nextLroeWindow(schedule, now)
    : undefined
}
