/** How many time zones keep a formatter: a process serves a few, an unbounded cache would be a leak. */
const MOST_ZONES = 64

// Building an Intl.DateTimeFormat costs far more than using one: one per time zone, kept.
const formats = new Map<string, Intl.DateTimeFormat>()

/**
 * A formatter whose parts (year, month, day, hour 00-23, minute, second, all two digits but the year) are
 * the wall clock in `timeZone`: what markets print and sign as local time.
 */
export function wallClockFormat(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
    if (formats.size < MOST_ZONES) formats.set(timeZone, format)
  }
  return format
}
