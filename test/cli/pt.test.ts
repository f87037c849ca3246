import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { PRIVATE_KEY, PUBLIC_KEY } from '../markets/pt/support.ts'
import { cliEnv, runCli } from './cli-process.ts'

/** `fiscalbox pt configure | show` as an operator runs them. */
const dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-cli-pt-'))
const env = cliEnv({ DATABASE_URL: `sqlite:${join(dataDir, 'fiscalbox.db')}`, FISCALBOX_DATA_DIR: dataDir })
after(() => rmSync(dataDir, { recursive: true, force: true }))

describe('fiscalbox pt', () => {
  it('configures a PT cash box from a key file, refuses bad values and other countries', async () => {
    const keyFile = join(dataDir, 'key.pem')
    writeFileSync(keyFile, PRIVATE_KEY)
    const box = JSON.parse((await runCli(['cashbox', 'create', '--country', 'PT', '--json'], env)).stdout)
    const configure = [
      'pt',
      'configure',
      '--cashbox',
      box.cashboxId,
      '--nif',
      '509442013',
      '--company-name',
      'Café Exemplo, Lda.',
      '--certificate-number',
      '9999',
      '--private-key',
      keyFile,
    ]
    const badSeries = await runCli([...configure, '--series', 'FS:FS2026'], env)
    assert.equal(badSeries.code, 1)
    assert.match(badSeries.stderr, /--series FS:FS2026: expected TYPE:SERIES:VALIDATIONCODE\[:manual\]/)
    const badCode = await runCli([...configure, '--series', 'FS:FS2026:short'], env)
    assert.equal(badCode.code, 1)
    assert.match(
      badCode.stderr,
      /series\[0\]\.validationCode: must be the validation code the AT gave the series/,
    )
    assert.equal(
      (await runCli(['pt', 'show', '--cashbox', box.cashboxId], env)).code,
      1,
      'nothing was stored',
    )
    const good = await runCli(
      [
        ...configure,
        '--series',
        'FS:FS2026:AAJFJNK6JJ',
        '--series',
        'FT:FTM2026:AAJFJHK6J6:manual',
        '--json',
      ],
      env,
    )
    assert.equal(good.code, 0, good.stderr)
    const config = JSON.parse(good.stdout)
    assert.equal(config.publicKey.trim(), PUBLIC_KEY.trim())
    assert.deepEqual(
      config.series.map((s: { documentType: string; series: string; manual: boolean }) => [
        s.documentType,
        s.series,
        s.manual,
      ]),
      [
        ['FS', 'FS2026', false],
        ['FT', 'FTM2026', true],
      ],
    )
    const show = await runCli(['pt', 'show', '--cashbox', box.cashboxId, '--json'], env)
    assert.deepEqual(JSON.parse(show.stdout), config)
    const italian = JSON.parse((await runCli(['cashbox', 'create', '--country', 'IT', '--json'], env)).stdout)
    const wrong = await runCli(['pt', 'show', '--cashbox', italian.cashboxId], env)
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /is a IT cash box: create one with --country PT/)
  })
})
