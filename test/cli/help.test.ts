import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { cliEnv, runCli } from './cli-process.ts'

// --help must not touch a database: point DATABASE_URL at an empty directory and check it stays empty.
const dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-cli-help-'))
const env = cliEnv({ DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}`, FISCALBOX_DATA_DIR: dataDir })

after(() => rmSync(dataDir, { recursive: true, force: true }))

/** Every command and subcommand, with what its help must name. */
const COMMANDS: Array<{ path: string[]; names: string[] }> = [
  { path: [], names: ['serve', 'migrate', 'cashbox', 'export', 'verify', 'DATABASE_URL', '--help'] },
  { path: ['serve'], names: ['HTTP server', 'demo cash box'] },
  { path: ['migrate'], names: ['schema', 'DATABASE_URL'] },
  { path: ['cashbox'], names: ['create', 'list'] },
  { path: ['cashbox', 'create'], names: ['--country <CC>', '--label <text>', '--json'] },
  { path: ['cashbox', 'list'], names: ['--json', 'never their tokens'] },
  { path: ['operator', 'create'], names: ['--email <address>', '--account <id>', '--password-stdin'] },
  {
    path: ['certificates', 'import'],
    names: [
      '--account <id>',
      '--file <path>',
      '--password-file <path>',
      '--password-stdin',
      '--password-env',
    ],
  },
  { path: ['export'], names: ['journal'] },
  { path: ['export', 'journal'], names: ['--cashbox <id>', '--out <file>'] },
  { path: ['verify'], names: ['<file>', '--json'] },
]

// Each run starts a Node process with tsx (~1.5 s of CPU): two at a time keeps a small CI machine responsive.
describe('fiscalbox --help', { concurrency: 2 }, () => {
  for (const { path, names } of COMMANDS) {
    const shown = ['fiscalbox', ...path].join(' ')
    it(`${shown} --help exits 0 and names ${names.join(', ')}`, async () => {
      const result = await runCli([...path, '--help'], env)
      assert.equal(result.code, 0, result.stderr)
      assert.ok(
        result.stdout.startsWith(`Usage: ${shown} `),
        `help should start with its usage line:\n${result.stdout}`,
      )
      for (const name of names) assert.ok(result.stdout.includes(name), `${shown} --help lacks ${name}`)
      assert.match(result.stdout, /-h, --help/)
    })
  }

  it('an unknown command fails with a hint to --help', async () => {
    const result = await runCli(['sevre'], env)
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, /unknown command 'sevre'/)
    assert.match(result.stderr, /--help/)
  })

  it('a missing required option is named, with a non-zero exit', async () => {
    const results = await Promise.all([
      runCli(['cashbox', 'create'], env),
      runCli(['export', 'journal', '--out', join(dataDir, 'x.jsonl')], env),
    ])
    assert.notEqual(results[0]?.code, 0)
    assert.match(results[0]?.stderr ?? '', /--country <CC>/)
    assert.notEqual(results[1]?.code, 0)
    assert.match(results[1]?.stderr ?? '', /--cashbox <id>/)
  })
})

describe('help and usage errors leave the data directory alone', () => {
  it('no database or key file was created', () => {
    assert.deepEqual(readdirSync(dataDir), [])
  })
})
