import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCode } from '../../src/core/errors.ts'
import { marketModules } from '../../src/markets/index.ts'
import { coreMigrations } from '../../src/storage/migrations/index.ts'

// The module list is merged into shared tables by spreading: a duplicate key would silently replace
// another module's (or the core's) entry instead of failing.

test('each market module has its own two-letter country', () => {
  const countries = marketModules.map((module) => module.country)
  for (const country of countries) assert.match(country, /^[A-Z]{2}$/)
  assert.equal(new Set(countries).size, countries.length, `a country twice: ${countries}`)
})

test("no market module's migration name repeats the core's or another module's", () => {
  const names = marketModules.flatMap((module) => Object.keys(module.migrations ?? {}))
  assert.equal(new Set(names).size, names.length, `a migration name twice: ${names}`)
  assert.deepEqual(
    names.filter((name) => name in coreMigrations),
    [],
  )
})

test("no market module's error code is a core code or another module's", () => {
  const codes = marketModules.flatMap((module) => Object.keys(module.errors ?? {}))
  assert.equal(new Set(codes).size, codes.length, `an error code twice: ${codes}`)
  const core = new Set<string>(Object.values(ErrorCode))
  assert.deepEqual(
    codes.filter((code) => core.has(code)),
    [],
  )
})

test("no market module's configuration variable is another's", () => {
  const variables = marketModules.flatMap((module) => Object.keys(module.config ?? {}))
  assert.equal(new Set(variables).size, variables.length, `a variable twice: ${variables}`)
})
