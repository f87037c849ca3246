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

export interface Zoned {
  second: number
  parts: Readonly<Record<string, string>>
  offsetMinutes: number
}

/**
 * The last second's answer per time zone. formatToParts is the costliest step of a record that carries
 * local time (the /v2/sign profile), a record may ask more than once (a timestamp and an issue date) and a
 * busy cash box makes many records within one second; the parts are whole seconds, so the same second has
 * the same answer.
 */
const lastSecond = new Map<string, Zoned>()

/** Wall-clock parts of an instant in a time zone, and that zone's offset at the instant. */
export function zonedWallClock(moment: Date, timeZone: string): Zoned {
  const second = Math.floor(moment.getTime() / 1000)
  const last = lastSecond.get(timeZone)
  if (last?.second === second) return last
  const parts = Object.fromEntries(
    wallClockFormat(timeZone)
      .formatToParts(moment)
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>
  const wall = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  )
  const offsetMinutes = Math.round((wall - second * 1000) / 60_000)
  const answer = { second, parts, offsetMinutes }
  if (last || lastSecond.size < MOST_ZONES) lastSecond.set(timeZone, answer)
  return answer
}

/** RFC 3339 / ISO 8601 wall-clock time in `timeZone` with its offset then: `2024-01-01T19:20:30+01:00`. */
export function timestampWithOffset(moment: Date, timeZone: string): string {
  const { parts, offsetMinutes } = zonedWallClock(moment, timeZone)
  const sign = offsetMinutes < 0 ? '-' : '+'
  const abs = Math.abs(offsetMinutes)
  const offset = `${sign}${String(Math.trunc(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`
}
