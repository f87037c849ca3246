import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type RemoteTse, startRemoteTse } from '../markets/de/remote-tse-support.ts'
import { cliEnv, runCli } from './cli-process.ts'

/** `fiscalbox de remote-tse configure | show | export` as an operator runs them, against a second fiscalbox as the TSE. */
const dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-cli-de-remote-'))
const env = cliEnv({ DATABASE_URL: `sqlite:${join(dataDir, 'fiscalbox.db')}`, FISCALBOX_DATA_DIR: dataDir })

describe('fiscalbox de remote-tse', () => {
  let remote: RemoteTse
  before(async () => {
    remote = await startRemoteTse()
  })
  after(async () => {
    await remote.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('sets up the TSS and client on the remote TSE, never shows the secret, and pulls an export that verifies', async () => {
    const created = await runCli(['cashbox', 'create', '--country', 'DE', '--json'], env)
    assert.equal(created.code, 0, created.stderr)
    const box = JSON.parse(created.stdout)
    const configure = ['de', 'remote-tse', 'configure', '--cashbox', box.cashboxId, '--base-url', remote.url]
    const noSecret = await runCli([...configure, '--api-key', remote.apiKey], env)
    assert.equal(noSecret.code, 1)
    assert.match(noSecret.stderr, /FISCALBOX_TSE_API_SECRET/)
    const withSecret = { ...env, FISCALBOX_TSE_API_SECRET: remote.apiSecret }
    const configured = await runCli([...configure, '--api-key', remote.apiKey, '--json'], withSecret)
    assert.equal(configured.code, 0, configured.stderr)
    const view = JSON.parse(configured.stdout)
    assert.equal((await remote.get(`/tss/${view.tss_id}`)).json().state, 'INITIALIZED')
    const shown = await runCli(['de', 'remote-tse', 'show', '--cashbox', box.cashboxId], env)
    assert.equal(shown.code, 0, shown.stderr)
    assert.match(shown.stdout, new RegExp(view.tss_id))
    assert.ok(!shown.stdout.includes(remote.apiSecret) && !configured.stdout.includes(remote.apiSecret))
    for (const file of readdirSync(dataDir).filter((name) => name.startsWith('fiscalbox.db')))
      assert.ok(
        !readFileSync(join(dataDir, file)).includes(remote.apiSecret),
        `${file}: the secret is stored sealed only`,
      )
    const out = join(dataDir, 'tse.tar')
    const pulled = await runCli(['de', 'remote-tse', 'export', '--cashbox', box.cashboxId, '--out', out], env)
    assert.equal(pulled.code, 0, pulled.stderr)
    const verified = await runCli(['verify', out], env)
    assert.equal(verified.code, 0, verified.stdout + verified.stderr)
  })
})
