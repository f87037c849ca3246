import { zonedWallClock } from '../../core/wall-clock.ts'

/**
 * Austrian receipts carry the receipt's moment as local time in Vienna without a zone
 * (yyyy-MM-ddTHH:mm:ss).
 */

const HOUR_MS = 3_600_000

/** Vienna's offset from UTC in ms for each UTC hour asked for: it changes only on whole UTC hours. */
const offsets = new Map<number, number>()

function offsetAt(hour: number): number {
  let offset = offsets.get(hour)
  if (offset === undefined) {
    offset = zonedWallClock(new Date(hour * HOUR_MS), 'Europe/Vienna').offsetMinutes * 60_000
    if (offsets.size > 10_000) offsets.clear()
    offsets.set(hour, offset)
  }
  return offset
}

const two = (n: number) => String(n).padStart(2, '0')

export function viennaLocalTime(moment: Date): string {
  const ms = moment.getTime()
  const local = new Date(ms + offsetAt(Math.floor(ms / HOUR_MS)))
  return `${String(local.getUTCFullYear()).padStart(4, '0')}-${two(local.getUTCMonth() + 1)}-${two(local.getUTCDate())}T${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())}`
}

/** The calendar month (yyyy-MM) of a moment in Vienna, for the monthly and yearly receipts. */
export const viennaMonth = (moment: Date): string => viennaLocalTime(moment).slice(0, 7)

/** The calendar day (yyyy-MM-dd) of a moment in Vienna, for the rates valid from a day. */
export const viennaDay = (moment: Date): string => viennaLocalTime(moment).slice(0, 10)
