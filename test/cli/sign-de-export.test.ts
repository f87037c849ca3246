import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createCredentials, receipt, setUpTss, signDeClient } from '../api/sign-de-v2/support.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { cliEnv, runCli } from './cli-process.ts'

for (const engine of await engines()) {
  describe(`fiscalbox export tar and fiscalbox verify on a TSS (${engine})`, () => {
    let harness: Harness
    let env: NodeJS.ProcessEnv
    let tssId: string
    let signatureCounter: number
    let api: Awaited<ReturnType<typeof signDeClient>>
    let clientIds: string[]

    /** An export through the SIGN DE API (PUT, poll, download) with the given filter query, as a file. */
    async function apiExport(query: string): Promise<string> {
      const exportId = randomUUID()
      const started = await api.call('PUT', `/tss/${tssId}/export/${exportId}?${query}`, {})
      assert.equal(started.status, 200, JSON.stringify(started.body))
      let state = started.body.state
      for (let poll = 0; poll < 500 && (state === 'PENDING' || state === 'WORKING'); poll++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        state = (await api.call('GET', `/tss/${tssId}/export/${exportId}`)).body.state
      }
      assert.equal(state, 'COMPLETED')
      const file = join(harness.dataDir, `${exportId}.tar`)
      writeFileSync(file, (await api.call('GET', `/tss/${tssId}/export/${exportId}/file`)).raw)
      return file
    }

    before(async () => {
      harness = await startHarness(engine)
      env = cliEnv({ DATABASE_URL: harness.databaseUrl, FISCALBOX_DATA_DIR: harness.dataDir })
      api = await signDeClient(harness.app, await createCredentials(harness))
      const tss = await setUpTss(api, { clients: 2 })
      tssId = tss.tssId
      clientIds = tss.clientIds
      for (let i = 1; i <= 12; i++) {
        const txId = randomUUID()
        const client_id = tss.clientIds[i % 2] as string
        await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=1`, { state: 'ACTIVE', client_id })
        const end = await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=2`, {
          state: i === 7 ? 'CANCELLED' : 'FINISHED',
          client_id,
          ...(i === 7 ? {} : { schema: receipt(`${i}.00`) }),
        })
        assert.equal(end.status, 200, JSON.stringify(end.body))
      }
      // One transaction stays open: exports show it as such.
      await api.call('PUT', `/tss/${tssId}/tx/${randomUUID()}?tx_revision=1`, {
        state: 'ACTIVE',
        client_id: tss.clientIds[0],
      })
      signatureCounter = Number((await api.call('GET', `/tss/${tssId}`)).body.signature_counter)
    })
    after(async () => harness.close())

    it('exports every log message with the chain, and the independent verifier accepts it', async () => {
      const out = join(harness.dataDir, 'tss.tar')
      const written = await runCli(['export', 'tar', '--tss', tssId, '--out', out], env)
      assert.equal(written.code, 0, written.stderr)
      assert.match(written.stdout, new RegExp(`^wrote ${signatureCounter} log messages and 3 certificates`))
      const verified = await runCli(['verify', out, '--json'], env)
      assert.equal(verified.code, 0, verified.stdout + verified.stderr)
      const report = JSON.parse(verified.stdout)
      assert.equal(report.problemCount, 0)
      assert.match(JSON.stringify(report), new RegExp(`"${signatureCounter}"|${signatureCounter}`))
    })

    it('fiscalbox verify accepts filtered exports (client, transactions, time) and says what it checked', async () => {
      const now = Math.floor(Date.now() / 1000)
      for (const [query, filter] of [
        [`client_id=${clientIds[0]}`, 'client=POS-1'],
        ['start_transaction_number=3&end_transaction_number=6', 'transactions=3..6'],
        ['transaction_number=4', 'transactions=4..4'],
        [`client_id=${clientIds[1]}&start_date=${now - 3600}&end_date=${now + 3600}`, 'client=POS-2; time='],
      ] as const) {
        const verified = await runCli(['verify', await apiExport(query)], env)
        assert.equal(verified.code, 0, `${query}\n${verified.stdout}${verified.stderr}`)
        assert.match(verified.stdout, /^OK: TSS export verified/)
        assert.ok(verified.stdout.includes(`filtered export: ${filter}`), verified.stdout)
      }
      // An unfiltered export still has to be complete.
      const full = await runCli(['verify', await apiExport(''), '--json'], env)
      assert.equal(JSON.parse(full.stdout).filter, null)
    })

    it('the verifier rejects a tampered copy and names the file', async () => {
      const out = join(harness.dataDir, 'tss.tar')
      const bytes = readFileSync(out)
      // Change one digit of the processData of a Finish log: "Beleg^5.00" -> "Beleg^6.00".
      const at = bytes.indexOf(Buffer.from('Beleg^5.00'))
      assert.ok(at > 0)
      bytes[at + 6] = '6'.charCodeAt(0)
      const tampered = join(harness.dataDir, 'tampered.tar')
      writeFileSync(tampered, bytes)
      const verified = await runCli(['verify', tampered], env)
      assert.equal(verified.code, 1, verified.stdout)
      assert.match(verified.stdout, /_Log-Tra_No-5_Finish_Client-POS-2\.log/)
    })

    it('a P-384 TSS (ecdsa-plain-SHA384) signs 96-byte r||s and its export verifies', async () => {
      const api = await signDeClient(harness.app, await createCredentials(harness))
      const id = randomUUID()
      const created = await api.call('PUT', `/tss/${id}`, { signature_algorithm: 'ecdsa-plain-SHA384' })
      assert.equal(created.body.signature_algorithm, 'ecdsa-plain-SHA384')
      assert.equal(Buffer.from(created.body.public_key, 'base64').length, 97)
      await api.call('PATCH', `/tss/${id}`, { state: 'UNINITIALIZED' })
      await api.call('PATCH', `/tss/${id}/admin`, {
        admin_puk: created.body.admin_puk,
        new_admin_pin: '123456',
      })
      await api.call('POST', `/tss/${id}/admin/auth`, { admin_pin: '123456' })
      await api.call('PATCH', `/tss/${id}`, { state: 'INITIALIZED' })
      const clientId = randomUUID()
      await api.call('PUT', `/tss/${id}/client/${clientId}`, { serial_number: 'P384' })
      const txId = randomUUID()
      await api.call('PUT', `/tss/${id}/tx/${txId}?tx_revision=1`, { state: 'ACTIVE', client_id: clientId })
      const end = await api.call('PUT', `/tss/${id}/tx/${txId}?tx_revision=2`, {
        state: 'FINISHED',
        client_id: clientId,
        schema: receipt('7.00'),
      })
      assert.equal(Buffer.from(end.body.signature.value, 'base64').length, 96)
      const out = join(harness.dataDir, 'p384.tar')
      assert.equal((await runCli(['export', 'tar', '--tss', id, '--out', out], env)).code, 0)
      const verified = await runCli(['verify', out], env)
      assert.equal(verified.code, 0, verified.stdout + verified.stderr)
      assert.match(verified.stdout, /ecdsa-plain-SHA384/)
    })

    it('an unknown TSS is an error that says so', async () => {
      const result = await runCli(
        ['export', 'tar', '--tss', randomUUID(), '--out', join(harness.dataDir, 'x.tar')],
        env,
      )
      assert.equal(result.code, 1)
      assert.match(result.stderr, /no TSS/)
    })
  })
}
