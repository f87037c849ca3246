/**
 * How a filtered export describes itself. TR-03151 lets a TSS export only some log messages (one client,
 * a range of transaction numbers, of log times, of signature counters), and TR-03153's archive has no
 * field for that, so fiscalbox writes it into info.csv's description:
 * `fiscalbox software TSS; filtered export; client=POS-1; transactions=2..5; time=1700000000..`
 * (unix seconds, an open end left empty). Without that marker an export counts as complete.
 */

export interface Range {
  from?: number
  to?: number
}

export interface ExportFilter {
  /** The filter as written, e.g. `client=POS-1; transactions=2..5`. */
  text: string
  client?: string
  transactions?: Range
  time?: Range
  signatures?: Range
}

const DESCRIPTION = /^"description:","((?:[^"]|"")*)"/
const MARKER = '; filtered export'

function rangeOf(value: string): Range | undefined {
  const match = /^(\d*)\.\.(\d*)$/.exec(value)
  if (!match) return undefined
  return {
    ...(match[1] ? { from: Number(match[1]) } : {}),
    ...(match[2] ? { to: Number(match[2]) } : {}),
  }
}

/** The filter an info.csv line declares; null for a complete export, a string for a marker it cannot read. */
export function exportFilterOf(infoCsv: string): ExportFilter | null | string {
  const description = DESCRIPTION.exec(infoCsv)?.[1]?.replaceAll('""', '"')
  const at = description?.indexOf(MARKER) ?? -1
  if (!description || at < 0) return null
  const text = description.slice(at + MARKER.length).replace(/^; /, '')
  const filter: ExportFilter = { text }
  for (const part of text.split('; ')) {
    const [key, value = ''] = part.split(/=(.*)/s)
    const range = rangeOf(value)
    if (key === 'client' && value) filter.client = value
    else if ((key === 'transactions' || key === 'time' || key === 'signatures') && range) filter[key] = range
    else return `info.csv: unknown export filter "${part}"`
  }
  return filter
}

export const inRange = (range: Range, value: number): boolean =>
  (range.from === undefined || value >= range.from) && (range.to === undefined || value <= range.to)
