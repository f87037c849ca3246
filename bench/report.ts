import type { Results } from './run.ts'
export function renderMarkdown(r: Results) {
  const t = JSON.stringify({ t: r.throughput && { hello: r.throughput.hello.okPerSecond, sign: r.throughput.sign.okPerSecond, ratio: r.throughput.ratio, non2xx: r.throughput.sign.non2xx, lat: r.throughput.sign.latencyMs }, l: r.latency?.sign.latencyMs }, null, 1)
  return { table: t, document: t }
}
export function renderSvg(_r: Results) { return '' }
