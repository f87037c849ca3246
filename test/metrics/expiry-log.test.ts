import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { eventually } from '../api-v1/support.ts'
import { cliEnv, runCli, type Server, startServer } from '../cli/cli-process.ts'
import { opensslDevice } from '../dashboard/certificates-support.ts'

const SERIAL = '2bad5eed00000017'

/** The JSON lines of pino's output that warn of a credential's expiry. */
const expiryWarnings = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.level === 40 && typeof entry.daysLeft === 'number')

describe('fiscalbox serve warns in its log of a certificate that expires within 30 days', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-expiry-log-'))
  const env = cliEnv({
    DATABASE_URL: `sqlite:${join(dataDir, 'fiscalbox.db')}`,
    FISCALBOX_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
  })
  let server: Server | undefined
  after(async () => {
    await server?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  test('at start: one warning line naming the cash box, the device, its serial and the days left', async () => {
    const created = await runCli(
      ['cashbox', 'create', '--country', 'AT', '--label', 'Wien till', '--json'],
      env,
    )
    assert.equal(created.code, 0, created.stderr)
    const box = JSON.parse(created.stdout) as { cashboxId: string; accessToken: string }
    server = await startServer(env)
    assert.deepEqual(expiryWarnings(server.output().stdout), [], 'nothing expires yet')
    const device = opensslDevice(20, SERIAL)
    const provisioned = await fetch(`${server.baseUrl}/at/v1/cashbox`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        'x-cashbox-id': box.cashboxId,
        'x-cashbox-accesstoken': box.accessToken,
      },
      body: JSON.stringify({
        kassenId: 'EXPIRY-LOG-1',
        devices: [
          { number: 1, provider: 'AT1', privateKey: device.privateKey, certificate: device.certificate },
        ],
      }),
    })
    assert.equal(provisioned.status, 200, await provisioned.text())
    assert.equal((await server.stop()).code, 0)

    // The check runs at start and then daily: the restarted server finds the certificate.
    server = await startServer(env)
    const running = server
    const [warning] = await eventually(
      async () => expiryWarnings(running.output().stdout),
      (warnings) => warnings.length > 0,
      'the expiry warning in the log',
    )
    assert.ok(warning)
    assert.equal(warning.country, 'AT')
    assert.equal(warning.cashboxId, box.cashboxId)
    assert.equal(warning.serial, SERIAL)
    assert.equal(warning.daysLeft, 19)
    assert.equal(warning.notAfter, device.facts.notAfter.toISOString())
    assert.equal(
      warning.msg,
      `AT signature device certificate (AT1) of signature device 1 (cash box ${box.cashboxId}) expires in 19 days (warned 30 days ahead): replace it`,
    )
    assert.equal(expiryWarnings(running.output().stdout).length, 1, 'one line per credential')
  })
})
