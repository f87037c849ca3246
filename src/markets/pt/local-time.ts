import { wallClockFormat } from '../../core/wall-clock.ts'
import type { PtRegion } from './ports.ts'

/** Documents carry local time: Lisbon on the mainland and in Madeira, one hour behind in the Azores. */
const ZONES: Record<PtRegion, string> = {
  PT: 'Europe/Lisbon',
  'PT-MA': 'Atlantic/Madeira',
  'PT-AC': 'Atlantic/Azores',
}

/** `YYYY-MM-DDThh:mm:ss`, the wall clock of the region at a moment (to the second, as SAF-T wants). */
export function localDateTime(moment: Date, region: PtRegion): string {
  const part: Record<string, string> = {}
  for (const p of wallClockFormat(ZONES[region]).formatToParts(moment)) part[p.type] = p.value
  return `${part.year}-${part.month}-${part.day}T${part.hour}:${part.minute}:${part.second}`
}
