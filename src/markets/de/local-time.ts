import { timestampWithOffset, zonedWallClock } from '../../core/wall-clock.ts'

/**
 * German civil time (Europe/Berlin, CET/CEST). DSFinV-K dates and times other than the TSE's log times are
 * local time; the offset is written with them so that the hour repeated in October stays unambiguous.
 */
const GERMANY = 'Europe/Berlin'

/** RFC 3339 local time with offset, whole seconds: 2026-10-25T02:30:00+01:00. */
export const berlinTimestamp = (moment: Date): string => timestampWithOffset(moment, GERMANY)

/** The German calendar day (YYYY-MM-DD) of a moment: a closing at 00:30 CEST belongs to that day. */
export function berlinDay(moment: Date): string {
  const { parts } = zonedWallClock(moment, GERMANY)
  return `${parts.year}-${parts.month}-${parts.day}`
}
