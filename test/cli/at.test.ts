import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { cliEnv, runCli } from './cli-process.ts'

/** The Austrian commands as an operator runs them: provision, show, device status, help, errors. */
const dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-cli-at-'))
const env = cliEnv({ DATABASE_URL: `sqlite:${join(dataDir, 'fiscalbox.db')}`, FISCALBOX_DATA_DIR: dataDir })
after(() => rmSync(dataDir, { recursive: true, force: true }))

describe('fiscalbox at', () => {
  it('provisions an AT cash box, shows it, and reports a device out of service', async () => {
    const created = await runCli(['cashbox', 'create', '--country', 'AT', '--json'], env)
    assert.equal(created.code, 0, created.stderr)
    const { cashboxId } = JSON.parse(created.stdout)
    const provision = [
      'at',
      'provision',
      '--cashbox',
      cashboxId,
      '--kassen-id',
      'KASSE-7',
      '--company',
      'U:ATU12345678',
    ]
    const provisioned = await runCli(
      [...provision, '--device', '0', '--device', '1:AT1:82424e8077297aa3', '--json'],
      env,
    )
    assert.equal(provisioned.code, 0, provisioned.stderr)
    const summary = JSON.parse(provisioned.stdout)
    assert.equal(Buffer.from(summary.aesKey, 'base64').length, 32)
    assert.deepEqual(
      summary.devices.map((d: any) => [d.provider, d.certificateField, d.signatureDeviceType]),
      [
        ['AT0', 'U:ATU12345678-K0', 'PUBLIC_KEY'],
        ['AT1', '82424e8077297aa3', 'CERTIFICATE'],
      ],
    )
    const again = await runCli([...provision, '--device', '0'], env)
    assert.equal(again.code, 1)
    assert.match(again.stderr, /already provisioned/)
    const down = await runCli(
      ['at', 'device', '--cashbox', cashboxId, '--number', '1', '--out-of-service'],
      env,
    )
    assert.equal(down.code, 0, down.stderr)
    const shown = await runCli(['at', 'show', '--cashbox', cashboxId], env)
    assert.match(shown.stdout, /device 1: AT1 82424e8077297aa3 OUT OF SERVICE since/)
    assert.match(shown.stdout, new RegExp(`AES key check ${summary.aesKeyCheckValue}`))
    assert.ok(!shown.stdout.includes(summary.aesKey), 'the AES key is never shown again')
  })

  it('explains its options and refuses what cannot work', async () => {
    for (const path of [['at'], ['at', 'provision'], ['at', 'device'], ['export', 'dep7']]) {
      const help = await runCli([...path, '--help'], env)
      assert.equal(help.code, 0)
      assert.match(help.stdout, /-h, --help/)
    }
    const eu = JSON.parse((await runCli(['cashbox', 'create', '--country', 'EU', '--json'], env)).stdout)
    const wrong = await runCli(
      ['export', 'dep7', '--cashbox', eu.cashboxId, '--out', join(dataDir, 'x.json')],
      env,
    )
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /create one with --country AT/)
    const notDep = join(dataDir, 'not-dep7.json')
    writeFileSync(notDep, '{"Belege-Gruppe": [ broken')
    const broken = await runCli(['verify', notDep], env)
    assert.equal(broken.code, 1)
    assert.match(broken.stderr, /looks like a DEP7 export but is not valid JSON/)
  })
})
