/**
 * Austrian receipts carry the receipt's moment as local time in Vienna without a zone
 * (yyyy-MM-ddTHH:mm:ss). One formatter per process: building an Intl formatter costs far more than using it.
 */
const VIENNA = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Vienna',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
})

export function viennaLocalTime(moment: Date): string {
  const part: Record<string, string> = {}
  for (const p of VIENNA.formatToParts(moment)) part[p.type] = p.value
  return `${part.year}-${part.month}-${part.day}T${part.hour}:${part.minute}:${part.second}`
}

/** The calendar month (yyyy-MM) of a moment in Vienna, for the monthly and yearly receipts. */
export const viennaMonth = (moment: Date): string => viennaLocalTime(moment).slice(0, 7)
