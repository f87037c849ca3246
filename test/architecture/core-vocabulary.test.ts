import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import ts from 'typescript'

/**
 * core/ holds the rules that do not depend on a country (docs/architecture.md): a country's law, authority,
 * device or record format belongs to its module under src/markets. Lint keeps core/ from importing a
 * market; this keeps a market's words from being written into core/ by hand. Only code is read (names and
 * strings): a comment may still name a country as an example, and messages may show a country code
 * (`e.g. ES`) as a sample value.
 */
const VOCABULARY: ReadonlyArray<[RegExp, string]> = [
  [/\bDe[A-Z]\w*/, 'a German identifier (De...)'],
  [/spain|spanish|german|austria|ital(y|ian)|france|french|portug/i, 'a country name'],
  [
    /bizkaia|gipuzkoa|araba\b|aeat|lroe|veri\*?factu|ticketbai|tbai|\bsii\b/i,
    'a Spanish authority or system',
  ],
  [/\btss\b|\btse\b|kassensich|dsfinv/i, 'a German TSS or export'],
  [/rksv|dep7|\bkassen/i, 'an Austrian signature device or export'],
]

const CORE = join(import.meta.dirname, '../../src/core')

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* sourceFiles(path)
    else if (entry.name.endsWith('.ts')) yield path
  }
}

/** The tokens of a file without its comments and whitespace, each with its line. */
function* codeTokens(file: string): Generator<{ text: string; line: number }> {
  const text = readFileSync(file, 'utf8')
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, text)
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest)
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    yield {
      text: scanner.getTokenText(),
      line: source.getLineAndCharacterOfPosition(scanner.getTokenStart()).line + 1,
    }
  }
}

test('src/core names no country, authority, signing device or export format in its code', () => {
  const found: string[] = []
  for (const file of sourceFiles(CORE)) {
    for (const token of codeTokens(file)) {
      for (const [pattern, what] of VOCABULARY) {
        if (pattern.test(token.text))
          found.push(`src/core/${relative(CORE, file)}:${token.line}: ${token.text} (${what})`)
      }
    }
  }
  assert.deepEqual(found, [], `move these into their market module:\n${found.join('\n')}`)
})

test('the scan finds what it looks for', () => {
  // The guard above passes on an empty scan too: prove that it reads names and strings but not comments.
  const probe = join(import.meta.dirname, 'fixtures/core-probe.ts')
  const tokens = [...codeTokens(probe)].map((token) => token.text)
  const hits = tokens.filter((text) => VOCABULARY.some(([pattern]) => pattern.test(text)))
  assert.deepEqual(hits, ['DeTssDisabled', "'pending_lroe'"])
})
