import type { Bucket } from '../../core/dashboard/dashboard.ts'

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const WIDTH = 720
const HEIGHT = 200
const LEFT = 40
const BOTTOM = 24
const TOP = 12

/**
 * A bar chart as inline SVG, drawn on the server: no script, no external file, readable without colour.
 * Its title and description name what it shows, and each bar carries its value as a tooltip, so a screen
 * reader gets the table the picture stands for (the page shows that table as well).
 */
export function barChart(id: string, title: string, buckets: readonly Bucket[]): string {
  const max = Math.max(1, ...buckets.map((b) => b.value))
  const plotWidth = WIDTH - LEFT - 8
  const plotHeight = HEIGHT - BOTTOM - TOP
  const step = plotWidth / Math.max(1, buckets.length)
  const bars = buckets
    .map((bucket, i) => {
      const height = (bucket.value / max) * plotHeight
      const x = LEFT + i * step + 1
      const y = TOP + plotHeight - height
      const hour = bucket.at.slice(11, 16)
      const label =
        i % 3 === 0 ? `<text x="${x + step / 2}" y="${HEIGHT - 8}" text-anchor="middle">${hour}</text>` : ''
      return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, step - 2).toFixed(1)}" height="${height.toFixed(1)}"><title>${hour} UTC: ${bucket.value}</title></rect>${label}`
    })
    .join('')
  const total = buckets.reduce((sum, b) => sum + b.value, 0)
  return `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="${id}-title ${id}-desc" xmlns="http://www.w3.org/2000/svg"><title id="${id}-title">${escape(title)}</title><desc id="${id}-desc">${buckets.length} hourly bars, highest ${max}, sum ${total}</desc><g class="axis"><line x1="${LEFT}" y1="${TOP + plotHeight}" x2="${WIDTH - 8}" y2="${TOP + plotHeight}"/><text x="${LEFT - 4}" y="${TOP + 8}" text-anchor="end">${max}</text><text x="${LEFT - 4}" y="${TOP + plotHeight}" text-anchor="end">0</text></g><g class="bars">${bars}</g></svg>`
}
