import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { VerifactuAuthority } from '../../../src/markets/es/verifactu/authority.ts'
import { VERIFACTU_PATH } from '../../../src/markets/es/verifactu/namespaces.ts'
import { cliEnv, runCli, startListening } from '../../cli/cli-process.ts'
import { sampleChain } from './support.ts'

describe('fiscalbox es-simulator', () => {
  it('--help names the fault options', async () => {
    const result = await runCli(['es-simulator', '--help'], cliEnv({}))
    assert.equal(result.code, 0, result.stderr)
    for (const name of [
      '--port <n>',
      '--error-rate <fraction>',
      '--timeout-rate',
      '--outage <from-to>',
      '--wait-seconds',
      '--client-ca',
    ])
      assert.ok(result.stdout.includes(name), `lacks ${name}`)
  })

  it('verify-es and its subcommands have help', async () => {
    const [group, verifactu, ticketbai] = await Promise.all([
      runCli(['verify-es', '--help'], cliEnv({})),
      runCli(['verify-es', 'verifactu', '--help'], cliEnv({})),
      runCli(['verify-es', 'ticketbai', '--help'], cliEnv({})),
    ])
    assert.match(group.stdout, /verifactu/)
    assert.match(group.stdout, /ticketbai/)
    assert.match(verifactu.stdout, /<files\.\.\.>/)
    assert.match(ticketbai.stdout, /--json/)
  })

  it('refuses a rate above 1 and says what to send', async () => {
    const result = await runCli(['es-simulator', '--error-rate', '2'], cliEnv({}))
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, /fraction from 0 to 1/)
  })

  it('serves the AEAT service on the port it prints (as authority-sim, its alias), and stops on SIGTERM', async () => {
    const simulator = await startListening(['authority-sim', '--port', '0', '--wait-seconds', '5'])
    const { child, url } = simulator
    try {
      const authority = new VerifactuAuthority({
        endpoint: `${url}${VERIFACTU_PATH}`,
        taxpayer: { nif: 'B12345678', name: 'Bar' },
      })
      const result = await authority.submit(sampleChain(3))
      assert.equal(result.kind, 'answered')
      assert.equal(result.kind === 'answered' && result.waitSeconds, 5)
      const state = (await (await fetch(`${url}/_sim/state`)).json()) as { aeat: { submissions: number } }
      assert.equal(state.aeat.submissions, 1)
      assert.equal(await simulator.stop(), 0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})
