import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

/**
 * docs/architecture.md's "Layout" block is the map a new engineer reads first: every file or folder it
 * names under src/ must exist, and every folder of src/ (two levels deep) and every file directly in src/
 * must be on it, so that the map and the code cannot drift apart unnoticed.
 */
const ROOT = join(import.meta.dirname, '..', '..')
const DOC = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8')

/** The paths the layout block names under src/, from its indentation (two spaces a level). */
function layoutPaths(): string[] {
  const section = DOC.split(/^## Layout\s*$/m)[1]
  assert.ok(section, 'docs/architecture.md has a "## Layout" section')
  const block = /```[a-z]*\n([\s\S]*?)```/.exec(section)?.[1]
  assert.ok(block, 'the Layout section has a code block')
  const paths: string[] = []
  const parents: string[] = []
  let inSrc = false
  for (const line of block.split('\n')) {
    if (line.trim() === '') continue
    const indent = line.length - line.trimStart().length
    // The names come before the description, which is set off by two spaces or more.
    const head = line.trim().split(/\s{2,}/)[0] as string
    const names = head.split(/,?\s+/)
    if (indent === 0) {
      inSrc = head === 'src/'
      parents.length = 0
      parents.push('src')
      continue
    }
    const depth = indent / 2
    // A description's continuation line: deeper than any entry could be, or not names at all.
    if (!inSrc || !Number.isInteger(depth) || depth > parents.length) continue
    if (!names.every((name) => /^[\w.-]+\/?$/.test(name))) continue
    parents.length = depth
    for (const name of names) {
      const path = [...parents, name.replace(/\/$/, '')].join('/')
      paths.push(path)
      if (name.endsWith('/') && names.length === 1) parents[depth] = name.replace(/\/$/, '')
    }
  }
  return paths
}

test('every path the layout names exists in src/', () => {
  const named = layoutPaths()
  assert.ok(named.length > 20, `the layout names the code (${named.length} paths)`)
  const missing = named.filter((path) => !existsSync(join(ROOT, path)))
  assert.deepEqual(missing, [], 'named in docs/architecture.md but not in src/')
})

test('every folder of src/ (two levels) and every file directly in src/ is on the layout', () => {
  const named = new Set(layoutPaths())
  const unnamed: string[] = []
  for (const entry of readdirSync(join(ROOT, 'src'))) {
    const path = `src/${entry}`
    if (!named.has(path)) unnamed.push(path)
    if (!statSync(join(ROOT, path)).isDirectory()) continue
    for (const inner of readdirSync(join(ROOT, path))) {
      const innerPath = `${path}/${inner}`
      if (statSync(join(ROOT, innerPath)).isDirectory() && !named.has(innerPath)) unnamed.push(innerPath)
    }
  }
  assert.deepEqual(unnamed, [], 'in src/ but not on the layout of docs/architecture.md')
})
