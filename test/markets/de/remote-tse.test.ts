import assert from 'node:assert/strict'
import { randomUUID, X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { engines } from '../../helpers/engines.ts'
import { cliEnv, runCli } from '../../cli/cli-process.ts'
import { checkAgainstSpec } from './dsfinvk-spec-columns.ts'
import { remoteTseSuite } from './remote-tse-support.ts'
import {
  DE_CASE,
  DePos,
  deReceipt,
  PAY,
  parseCsv,
  qrOf,
  qrSelfVerifies,
  signatureData,
  stateLow,
  untar,
  VAT,
} from './support.ts'

/**
 * A German cash box signing on a certified cloud TSE: a second fiscalbox serves SIGN DE v2 as the remote
 * TSE, behind a fault proxy (latency, 5xx, lost answers, outage). The remote's own API counts the
 * transactions: one per receipt, never a second one for a lost answer.
 */
const SIGNING_UNIT_FAILED = 0x2n
const sale = (amount: string) =>
  deReceipt(DE_CASE.pos, [{ amount, vat: VAT.normal }], [{ amount, case: PAY.cash }])
const TX_PUT = /^\/api\/v2\/tss\/[^/]+\/tx\/[^/?]+\?tx_revision=/
const FINISH_PUT = /^\/api\/v2\/tss\/[^/]+\/tx\/[^/?]+\?tx_revision=2$/

for (const engine of await engines()) {
  describe(`DE cash box on a remote TSE (${engine})`, () => {
    const env = remoteTseSuite(engine)
    const { onRemote, transactions } = env

    test('set-up creates and initializes the TSS and client on the remote; receipts sign there, one transaction each', async () => {
      const { pos, tssId, config } = await onRemote()
      assert.ok(!JSON.stringify(config).includes(env.remote.apiSecret), 'the secret is never shown')
      const tss = (await env.remote.get(`/tss/${tssId}`)).json()
      assert.equal(tss.state, 'INITIALIZED')
      const client = (await env.remote.get(`/tss/${tssId}/client/${config.client_id}`)).json()
      assert.equal(client.state, 'REGISTERED')
      assert.equal(client.serial_number, pos.box.cashboxId)
      const receipts = [await pos.signOk(sale('4.20')), await pos.signOk(sale('9.99'))]
      for (const r of receipts) {
        assert.equal(stateLow(r), 0n, JSON.stringify(r))
        assert.equal(signatureData(r, 'TSE-Seriennummer'), tss.serial_number)
        assert.equal(signatureData(r, 'TSE-PublicKey'), tss.public_key)
        assert.ok(qrSelfVerifies(qrOf(r) as string), 'the QR code verifies against the TSE public key')
      }
      const txs = await transactions(tssId)
      assert.equal(txs.length, 3, 'start receipt and two sales')
      assert.deepEqual(
        txs.map((tx) => tx.state),
        ['FINISHED', 'FINISHED', 'FINISHED'],
      )
      const last = receipts[1]
      const byNumber = txs.find((tx) => String(tx.number) === signatureData(last, 'TSE-Transaktion'))
      assert.ok(byNumber, 'the receipt names the remote transaction')
      assert.equal(String(byNumber.signature.counter), signatureData(last, 'TSE-Signaturzähler'))
      assert.equal(byNumber.signature.value, signatureData(last, 'TSE-Signatur'))
      const data = Buffer.from(byNumber.schema.raw.process_data, 'base64').toString()
      assert.equal(data, 'Beleg^9.99_0.00_0.00_0.00_0.00^9.99:Bar')
      const status = (await pos.request('GET', '/de/v1/tss')).json()
      assert.equal(status.tss_id, tssId)
      assert.equal(status.signature_counter, Number(tss.signature_counter) + 4)

      // The remote TSS certificate is in the expiry inventory as this cash box's, with the end of validity
      // that node:crypto reads from the certificate the remote TSE itself serves.
      const remoteCertificate = new X509Certificate(tss.certificate)
      const held = (await env.h.runtime.credentials.list()).filter(
        (c) => c.holder === `remote TSS ${tss.serial_number}`,
      )
      assert.equal(held.length, 1, JSON.stringify(held))
      assert.equal(held[0]?.kind, 'certificate')
      assert.equal(held[0]?.cashboxId, pos.box.cashboxId)
      assert.equal(held[0]?.notAfter?.toISOString(), new Date(remoteCertificate.validTo).toISOString())
      assert.equal(held[0]?.serial, remoteCertificate.serialNumber.toLowerCase())
    })

    test('adopting the same TSS and client again changes nothing; a wrong secret is refused and stored nowhere', async () => {
      const { pos, config } = await onRemote()
      const again = await pos.request('PUT', '/de/v1/remote-tse', {
        base_url: env.proxy.url,
        api_key: env.remote.apiKey,
        api_secret: env.remote.apiSecret,
        tss_id: config.tss_id,
        client_id: config.client_id,
      })
      assert.equal(again.status, 200, again.payload)
      assert.deepEqual(again.json(), config)
      const wrong = await pos.request('PUT', '/de/v1/remote-tse', {
        base_url: env.proxy.url,
        api_key: env.remote.apiKey,
        api_secret: 'not-the-secret',
      })
      assert.equal(wrong.status, 400, wrong.payload)
      assert.match(wrong.payload, /api_secret: the remote TSE refused/)
      const bad = await pos.request('PUT', '/de/v1/remote-tse', {
        base_url: 'ftp://tse',
        api_key: 'k',
        api_secret: 's',
      })
      assert.equal(bad.status, 400)
      assert.match(bad.payload, /base_url/)
      assert.deepEqual((await pos.request('GET', '/de/v1/remote-tse')).json(), config)
    })

    test("set-up refuses a client whose serial is longer than DSFinV-K's Z_KASSE_ID and stores nothing; at 50 characters it exports", async () => {
      // A TSS initialized on the remote through its own SIGN DE API, with clients of 51 and 50 characters.
      const auth = await env.remote.harness.app.inject({
        method: 'POST',
        url: '/api/v2/auth',
        payload: { api_key: env.remote.apiKey, api_secret: env.remote.apiSecret },
      })
      const headers = { authorization: `Bearer ${auth.json().access_token}` }
      const call = async (method: 'PUT' | 'PATCH' | 'POST', path: string, payload: object) => {
        const r = await env.remote.harness.app.inject({ method, url: `/api/v2${path}`, headers, payload })
        assert.equal(r.statusCode, 200, `${method} ${path}: ${r.payload}`)
        return r.json()
      }
      const tssId = randomUUID()
      const adminPin = '12345678'
      const { admin_puk } = await call('PUT', `/tss/${tssId}`, {})
      await call('PATCH', `/tss/${tssId}`, { state: 'UNINITIALIZED' })
      await call('PATCH', `/tss/${tssId}/admin`, { admin_puk, new_admin_pin: adminPin })
      await call('POST', `/tss/${tssId}/admin/auth`, { admin_pin: adminPin })
      await call('PATCH', `/tss/${tssId}`, { state: 'INITIALIZED' })
      const [long, fits] = [randomUUID(), randomUUID()]
      await call('PUT', `/tss/${tssId}/client/${long}`, { serial_number: 'K'.repeat(51) })
      await call('PUT', `/tss/${tssId}/client/${fits}`, { serial_number: 'K'.repeat(50) })

      const pos = new DePos(env.h.app, await env.h.runtime.cashboxes.create('DE'))
      const adopt = (clientId: string) =>
        pos.request('PUT', '/de/v1/remote-tse', {
          base_url: env.proxy.url,
          api_key: env.remote.apiKey,
          api_secret: env.remote.apiSecret,
          tss_id: tssId,
          client_id: clientId,
          admin_pin: adminPin,
        })
      const refused = await adopt(long)
      assert.equal(refused.status, 400, refused.payload)
      assert.match(
        refused.payload,
        /client_id: the serial number of client [-0-9a-f]+: at most 50 characters \(it has 51\): DSFinV-K column Z_KASSE_ID of cashregister\.csv/,
      )
      assert.equal((await pos.request('GET', '/de/v1/remote-tse')).status, 404, 'nothing stored')

      const configured = await adopt(fits)
      assert.equal(configured.status, 200, configured.payload)
      await pos.signOk(deReceipt(DE_CASE.start))
      await pos.signOk(sale('2.00'))
      await pos.signOk(deReceipt(DE_CASE.daily))
      const exported = await pos.request('GET', '/de/v1/dsfinvk')
      assert.equal(exported.status, 200, exported.payload)
      const files = await untar(exported.raw)
      checkAgainstSpec(files)
      const register = parseCsv(files.get('cashregister.csv') as Buffer)
      assert.equal(register.rows[0]?.[register.header.indexOf('Z_KASSE_ID')], 'K'.repeat(50))
    })

    test("a changed set-up is the next receipt's: its calls go to the new address", async () => {
      const { pos, tssId, config } = await onRemote()
      assert.equal(stateLow(await pos.signOk(sale('3.10'))), 0n)
      const direct = await pos.request('PUT', '/de/v1/remote-tse', {
        base_url: env.remote.url,
        api_key: env.remote.apiKey,
        api_secret: env.remote.apiSecret,
        tss_id: config.tss_id,
        client_id: config.client_id,
      })
      assert.equal(direct.status, 200, direct.payload)
      const throughProxy = env.proxy.forwarded.length
      const receipt = await pos.signOk(sale('3.20'))
      assert.equal(stateLow(receipt), 0n, JSON.stringify(receipt))
      assert.equal(env.proxy.forwarded.length, throughProxy, 'no call through the old address')
      assert.equal((await transactions(tssId)).length, 3, 'start receipt and two sales')
    })

    test('a lost answer is read back under the same transaction id: the receipt signs, no second transaction', async () => {
      const { pos, tssId } = await onRemote()
      env.proxy.arm('drop', 'PUT', FINISH_PUT)
      const finishLost = await pos.signOk(sale('1.50'))
      assert.equal(stateLow(finishLost), 0n, JSON.stringify(finishLost))
      env.proxy.arm('drop', 'PUT', /tx_revision=1$/)
      const startLost = await pos.signOk(sale('2.50'))
      assert.equal(stateLow(startLost), 0n, JSON.stringify(startLost))
      const txs = await transactions(tssId)
      assert.equal(txs.length, 3, 'start receipt and two sales: one transaction each')
      assert.deepEqual(
        txs.map((tx) => tx.state),
        ['FINISHED', 'FINISHED', 'FINISHED'],
      )
      assert.notEqual(
        signatureData(finishLost, 'TSE-Transaktion'),
        signatureData(startLost, 'TSE-Transaktion'),
      )
    })

    test('a 5xx fails the TSE (ftState 0x2), the queue goes on without calling it, and a zero receipt recovers', async () => {
      const { pos, tssId } = await onRemote()
      env.proxy.arm('error', 'PUT', TX_PUT)
      const failed = await pos.signOk(sale('3.00'))
      assert.equal(stateLow(failed), SIGNING_UNIT_FAILED, JSON.stringify(failed))
      assert.match(signatureData(failed, 'TSE ausgefallen') ?? '', /503/)
      const calls = env.proxy.forwarded.length
      const during = await pos.signOk(sale('4.00'))
      assert.equal(stateLow(during), SIGNING_UNIT_FAILED)
      assert.equal(env.proxy.forwarded.length, calls, 'no call of a failed TSE until a zero receipt')
      const zero = await pos.signOk(deReceipt(DE_CASE.zero))
      assert.equal(stateLow(zero), 0n, JSON.stringify(zero))
      assert.match(signatureData(zero, 'TSE wieder in Betrieb') ?? '', /2 Vorgang/)
      const after = await pos.signOk(sale('5.00'))
      assert.equal(stateLow(after), 0n)
      assert.equal((await transactions(tssId)).length, 3, 'start, zero receipt and the sale after')
    })

    test('a full outage: receipts are answered without the TSE at once, then the TSE is back', async () => {
      const { pos, tssId } = await onRemote()
      env.proxy.outage = true
      try {
        for (const amount of ['1.00', '2.00', '3.00']) {
          const r = await pos.signOk(sale(amount))
          assert.equal(stateLow(r), SIGNING_UNIT_FAILED, JSON.stringify(r))
        }
        const stillOut = await pos.signOk(deReceipt(DE_CASE.zero))
        assert.equal(
          stateLow(stillOut),
          SIGNING_UNIT_FAILED,
          'a zero receipt during the outage finds it still failed',
        )
      } finally {
        env.proxy.outage = false
      }
      const zero = await pos.signOk(deReceipt(DE_CASE.zero))
      assert.equal(stateLow(zero), 0n, JSON.stringify(zero))
      assert.match(signatureData(zero, 'TSE wieder in Betrieb') ?? '', /4 Vorgang/)
      assert.equal(stateLow(await pos.signOk(sale('6.00'))), 0n)
      assert.equal((await transactions(tssId)).length, 3, 'start, the zero receipt that recovered, the sale')
    })

    test("the remote's TAR export is pulled, kept, and verifies with `fiscalbox verify`", async () => {
      const { pos, tssId } = await onRemote()
      await pos.signOk(sale('7.70'))
      const pulled = await pos.request('POST', '/de/v1/remote-tse/exports', {})
      assert.equal(pulled.status, 200, pulled.payload)
      assert.equal(pulled.json().tss_id, tssId)
      const listed = (await pos.request('GET', '/de/v1/remote-tse/exports')).json()
      assert.deepEqual(
        listed.map((e: any) => e.export_id),
        [pulled.json().export_id],
      )
      const tar = await pos.request('GET', `/de/v1/remote-tse/exports/${pulled.json().export_id}`)
      assert.equal(tar.status, 200)
      assert.equal(tar.raw.length, pulled.json().bytes)
      const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-remote-export-'))
      try {
        const file = join(dir, 'export.tar')
        writeFileSync(file, tar.raw)
        const verified = await runCli(['verify', file], cliEnv({}))
        assert.equal(verified.code, 0, verified.stdout + verified.stderr)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  })
}
