import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { openRuntime } from '../../src/runtime.ts'
import { pkcs12, testCa, testClient } from '../helpers/test-certificates.ts'
import { cliEnv, runBash, runCli } from './cli-process.ts'

// `fiscalbox certificates import | list | remove` as a merchant's integrator runs them: the password from
// a file, stdin or a variable (never an argument), the refusals named, nothing stored when refused.
const dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-cli-certificates-'))
const DATABASE_URL = `sqlite:${join(dataDir, 'fiscalbox.db')}`
const env = cliEnv({ DATABASE_URL, FISCALBOX_DATA_DIR: dataDir, P12_PASSWORD: 'from a variable' })
let accountId: string
const file = (name: string) => join(dataDir, name)

before(async () => {
  const runtime = await openRuntime({ DATABASE_URL, FISCALBOX_DATA_DIR: dataDir, PG_POOL_SIZE: 2 })
  try {
    accountId = (await runtime.v1.accounts.createAccount('Café Central', 'cafe@example.com')).account.id
  } finally {
    await runtime.close()
  }
  const ca = await testCa('C=ES, CN=CLI test CA')
  const taxpayer = await testClient(ca, 'C=ES, O=Empresa de Prueba SL, CN=EMPRESA DE PRUEBA SL - B12345674')
  const expired = await testClient(ca, 'C=ES, CN=Expired', { from: -400, to: -35 })
  writeFileSync(file('taxpayer.p12'), pkcs12(taxpayer.key, [taxpayer.cert, ca.cert], 'file secret'))
  writeFileSync(file('env.p12'), pkcs12(taxpayer.key, [taxpayer.cert], 'from a variable'))
  writeFileSync(file('expired.p12'), pkcs12(expired.key, [expired.cert], 'file secret'))
  writeFileSync(file('password'), 'file secret\n', { mode: 0o600 })
  writeFileSync(file('chain.pem'), `${taxpayer.cert}${ca.cert}`)
  writeFileSync(file('key.pem'), taxpayer.key, { mode: 0o600 })
})
after(() => rmSync(dataDir, { recursive: true, force: true }))

describe('fiscalbox certificates', () => {
  test('import with --password-file, the same certificate again from a variable and as PEM, then list and remove', async () => {
    const imported = await runCli(
      [
        'certificates',
        'import',
        '--account',
        accountId,
        '--file',
        file('taxpayer.p12'),
        '--password-file',
        file('password'),
      ],
      env,
    )
    assert.equal(imported.code, 0, imported.stderr)
    assert.match(imported.stdout, /^imported: \S+ +EMPRESA DE PRUEBA SL - B12345674 \(version 1\)$/m)
    assert.match(
      imported.stdout,
      /subject: +CN=EMPRESA DE PRUEBA SL - B12345674, O=Empresa de Prueba SL, C=ES/,
    )
    assert.match(imported.stdout, /issuer: +CN=CLI test CA, C=ES/)
    assert.match(imported.stdout, /uses: +tls_client, signing/)
    assert.doesNotMatch(imported.stdout + imported.stderr, /PRIVATE KEY|file secret/)
    const id = /^imported: (\S+)/m.exec(imported.stdout)?.[1]

    const again = await runCli(
      [
        'certificates',
        'import',
        '--account',
        accountId,
        '--file',
        file('env.p12'),
        '--password-env',
        'P12_PASSWORD',
        '--json',
      ],
      env,
    )
    assert.equal(again.code, 0, again.stderr)
    assert.equal(JSON.parse(again.stdout).id, id, 'the same certificate is stored once')
    const pem = await runCli(
      [
        'certificates',
        'import',
        '--account',
        accountId,
        '--file',
        file('chain.pem'),
        '--key',
        file('key.pem'),
        '--json',
      ],
      env,
    )
    assert.equal(pem.code, 0, pem.stderr)
    assert.equal(JSON.parse(pem.stdout).id, id)

    const listed = await runCli(['certificates', 'list', '--account', accountId], env)
    assert.equal(listed.code, 0, listed.stderr)
    assert.equal(listed.stdout.match(/^\S+ +EMPRESA/gm)?.length, 1)
    assert.match(listed.stdout, /used by: +nothing yet/)

    const removed = await runCli(['certificates', 'remove', '--account', accountId, id as string], env)
    assert.equal(removed.code, 0, removed.stderr)
    assert.match(
      (await runCli(['certificates', 'list', '--account', accountId], env)).stdout,
      /^no certificates$/m,
    )
  })

  test('refusals: a wrong password from stdin, an expired certificate, no password, an unknown account', async () => {
    const wrong = await runBash(
      `cd '${process.cwd()}' && printf 'guess' | DATABASE_URL='${DATABASE_URL}' FISCALBOX_DATA_DIR='${dataDir}' node --import tsx src/cli/main.ts certificates import --account ${accountId} --file '${file('taxpayer.p12')}' --password-stdin`,
    )
    assert.equal(wrong.code, 1, wrong.stdout)
    assert.match(wrong.stderr, /password: is wrong: the PKCS#12 integrity check \(MAC\) failed/)
    const expired = await runCli(
      [
        'certificates',
        'import',
        '--account',
        accountId,
        '--file',
        file('expired.p12'),
        '--password-file',
        file('password'),
      ],
      env,
    )
    assert.equal(expired.code, 1)
    assert.match(expired.stderr, /certificate: "CN=Expired, C=ES" expired on/)
    const none = await runCli(
      ['certificates', 'import', '--account', accountId, '--file', file('taxpayer.p12')],
      env,
    )
    assert.equal(none.code, 1)
    assert.match(none.stderr, /needs its password: --password-file, --password-stdin or --password-env/)
    const nobody = await runCli(
      [
        'certificates',
        'import',
        '--account',
        'no-such-account',
        '--file',
        file('taxpayer.p12'),
        '--password-file',
        file('password'),
      ],
      env,
    )
    assert.equal(nobody.code, 1)
    assert.match(nobody.stderr, /no account no-such-account/)
    assert.match(
      (await runCli(['certificates', 'list', '--account', accountId], env)).stdout,
      /^no certificates$/m,
    )
  })
})
