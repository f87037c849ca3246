import { readFileSync } from 'node:fs'

/**
 * Prints where a V8 CPU profile (node --cpu-prof, e.g. from `npm run bench -- --profile`) spent its time:
 * self time per function and per file, heaviest first.
 * usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [rows]
 */
interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: Node[]
  samples: number[]
  timeDeltas: number[]
}

process.stdout.on('error', () => process.exit(0))
const [file, rowsText] = process.argv.slice(2)
if (!file) {
  process.stderr.write('usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [rows]\n')
  process.exit(2)
}
const rows = Number(rowsText ?? 30)
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const selfMicros = new Map<number, number>()
profile.samples.forEach((id, i) =>
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
)
const total = [...selfMicros.values()].reduce((a, b) => a + b, 0)

const shortUrl = (url: string) =>
  url.replace(/^.*\/node_modules\//, '~/').replace(/^file:\/\/.*\/(src|bench)\//, '$1/')
const byFunction = new Map<string, number>()
const byFile = new Map<string, number>()
for (const [id, micros] of selfMicros) {
  const frame = byId.get(id)?.callFrame
  if (!frame) continue
  const where = shortUrl(frame.url) || '(native)'
  const fn = `${frame.functionName || '(anonymous)'}  ${where}:${frame.lineNumber + 1}`
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros)
  const pkg = where.startsWith('~/')
    ? where
        .split('/')
        .slice(0, where.startsWith('~/@') ? 3 : 2)
        .join('/')
    : where
  byFile.set(pkg, (byFile.get(pkg) ?? 0) + micros)
}
// Inclusive time: a sample counts once for every distinct function on its stack.
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const label = (n: Node) =>
  `${n.callFrame.functionName || '(anonymous)'}  ${shortUrl(n.callFrame.url) || '(native)'}:${n.callFrame.lineNumber + 1}`
const inclusive = new Map<string, number>()
for (const [id, micros] of selfMicros) {
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const node = byId.get(at)
    if (!node) break
    const name = label(node)
    if (seen.has(name)) continue
    seen.add(name)
    inclusive.set(name, (inclusive.get(name) ?? 0) + micros)
  }
}
const show = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title} (of ${(total / 1e6).toFixed(2)} s sampled)\n`)
  for (const [name, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    process.stdout.write(`${((micros / total) * 100).toFixed(1).padStart(5)} %  ${name}\n`)
  }
}
show('self time by function', byFunction)
show('self time by file or package', byFile)
show('inclusive time by function', inclusive)
