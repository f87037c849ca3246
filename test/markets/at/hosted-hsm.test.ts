import assert from 'node:assert/strict'
import { verify, X509Certificate } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type HsmSimulator, startHsmSimulator } from '../../../src/markets/at/hsm-simulator/index.ts'
import { cliEnv } from '../../cli/cli-process.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { AT_CASE, AtPos, atReceipt, exportAndVerifyDep7, stateBits, viennaToIso } from './support.ts'

const AES_KEY = 'WQRtiiya3hYh/Uz44Bv3x8ETl1nrH6nCdErn69g5/lU='
const SECRET = 'hsm-shared-secret-7f3c9e1a'
const FAILED = 'Sicherheitseinrichtung ausgefallen'

/** ES256 checked by node:crypto alone: the signature over header.payload against the certificate's key. */
function verifiesWith(certificate: Buffer, jws: string): boolean {
  const [header, payload, signature] = jws.split('.')
  return verify(
    'sha256',
    Buffer.from(`${header}.${payload}`, 'ascii'),
    { key: new X509Certificate(certificate).publicKey, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature ?? '', 'base64url'),
  )
}

const jwsOf = async (pos: AtPos, receiptId: string): Promise<string> => {
  const dep = await pos.dep7()
  const all: string[] = dep['Belege-Gruppe'].flatMap((g: any) => g['Belege-kompakt'])
  const found = all.find(
    (jws) =>
      Buffer.from(jws.split('.')[1] ?? '', 'base64url')
        .toString('utf8')
        .split('_')[3] === receiptId,
  )
  assert.ok(found, `no DEP7 entry for ${receiptId}`)
  return found
}

/** Issue 19, item 5: an Austrian cash box whose signature device is a hosted HSM (PrimeSign's wire format). */
for (const engine of await engines()) {
  describe(`Austrian cash box on a hosted HSM on ${engine}`, () => {
    let h: Harness
    let hsm: HsmSimulator
    let work: string
    before(async () => {
      h = await startHarness(engine)
      hsm = await startHsmSimulator({ sharedSecret: SECRET, serial: '5eed0001' })
      work = mkdtempSync(join(tmpdir(), 'fiscalbox-hosted-hsm-'))
    })
    after(async () => {
      await h.close()
      await hsm.close()
      rmSync(work, { recursive: true, force: true })
    })

    test('receipts are signed in the HSM, verify with its CA-issued certificate, and an outage ends with a Sammelbeleg', async () => {
      const box = await h.runtime.cashboxes.create('AT')
      const pos = new AtPos(h.app, box)
      const provisioned = await pos.provision({
        kassenId: 'KASSE-HSM',
        aesKey: AES_KEY,
        devices: [{ number: 1, hosted: { url: hsm.url, sharedSecret: SECRET, timeoutMs: 2000 } }],
      })
      assert.equal(provisioned.devices[0].provider, 'AT3')
      assert.equal(provisioned.devices[0].signatureDeviceType, 'CERTIFICATE')
      assert.equal(provisioned.devices[0].certificateField, '5eed0001')
      assert.equal(provisioned.devices[0].certificate, hsm.certificate.toString('base64'))
      assert.ok(!JSON.stringify(provisioned).includes(SECRET), 'the secret is never shown')
      assert.ok(
        new X509Certificate(hsm.certificate).verify(new X509Certificate(hsm.caCertificate).publicKey),
        'the device certificate is the test CA issue',
      )

      const sign = (reference: string, local: string, caseCode: string, sets?: bigint[]) =>
        pos.sign(atReceipt({ reference, moment: viennaToIso(local), caseCode, ...(sets ? { sets } : {}) }))
      const ok = async (...args: Parameters<typeof sign>) => {
        const reply = await sign(...args)
        assert.equal(reply.status, 200, reply.payload)
        return reply.json()
      }
      const before = hsm.calls.get('/rs/rk/signatures/r1raw') ?? 0
      const start = await ok('H-1', '2024-05-02T08:00:00', AT_CASE.start)
      const sale = await ok('H-2', '2024-05-02T09:00:00', AT_CASE.pos, [1250n])
      assert.equal(
        (hsm.calls.get('/rs/rk/signatures/r1raw') ?? 0) - before,
        2,
        'each receipt was signed in the HSM',
      )
      for (const receipt of [start, sale]) {
        assert.equal(stateBits(receipt.ftState).low & 0x2n, 0n)
        assert.ok(verifiesWith(hsm.certificate, await jwsOf(pos, receipt.ftReceiptIdentification)))
      }

      hsm.setMode({ kind: 'failing' })
      const refusedYearly = await sign('H-X', '2024-05-02T09:30:00', AT_CASE.yearly)
      assert.equal(refusedYearly.status, 409, 'a Jahresbeleg is never marked failed')
      assert.match(refusedYearly.json().message, /503/)
      const failed = await ok('H-3', '2024-05-02T10:00:00', AT_CASE.pos, [300n])
      assert.equal(stateBits(failed.ftState).low & 0x2n, 0x2n)
      assert.ok(failed.ftSignatures.some((s: any) => s.Caption === FAILED))
      const failedJws = await jwsOf(pos, failed.ftReceiptIdentification)
      assert.equal(Buffer.from(failedJws.split('.')[2] ?? '', 'base64url').toString('utf8'), FAILED)

      // A call slower than the device's bound is a failure too.
      hsm.setMode({ kind: 'slow', delayMs: 4000 })
      const slow = await ok('H-4', '2024-05-02T10:30:00', AT_CASE.zero)
      assert.equal(stateBits(slow.ftState).low & 0x2n, 0x2n)
      assert.ok(!slow.ftSignatures.some((s: any) => s.Caption === 'Sammelbeleg'))

      hsm.setMode({ kind: 'ok' })
      // Back: receipts stay marked until the zero receipt that is the Sammelbeleg.
      const stillFailed = await ok('H-5', '2024-05-02T11:00:00', AT_CASE.pos, [100n])
      assert.equal(stateBits(stillFailed.ftState).low & 0x2n, 0x2n)
      const sammel = await ok('H-6', '2024-05-02T12:00:00', AT_CASE.zero)
      assert.equal(stateBits(sammel.ftState).low & 0x2n, 0n)
      assert.ok(sammel.ftSignatures.some((s: any) => s.Caption === 'Sammelbeleg'))
      const content = sammel.ftSignatures.find(
        (s: any) => s.Caption === 'Sammelbeleg: Ausfall der Sicherheitseinrichtung',
      )
      assert.equal(JSON.parse(content.Data).belegeOhneSignatur, 3)
      assert.ok(verifiesWith(hsm.certificate, await jwsOf(pos, sammel.ftReceiptIdentification)))

      const env = cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })
      const report = await exportAndVerifyDep7(
        env,
        box.cashboxId,
        join(work, `dep7-${engine}.json`),
        join(work, `keys-${engine}.json`),
      )
      assert.deepEqual(report.problems, [])
      assert.equal(report.receipts, 6)
      assert.equal(report.failedDeviceReceipts, 3)
      assert.equal(report.turnoverCents, '1650')

      if (engine === 'sqlite') {
        const files = readdirSync(h.dataDir).filter((f) => f.startsWith('fiscalbox.db'))
        assert.ok(files.length > 0)
        for (const file of files) {
          const bytes = readFileSync(join(h.dataDir, file))
          assert.equal(bytes.indexOf(SECRET), -1, `the shared secret is in ${file} in clear`)
          assert.equal(bytes.indexOf(hsm.url), -1, `the HSM URL is in ${file} in clear`)
        }
      }
    })

    test('a cash box waiting for its hosted HSM holds no other cash box', async () => {
      const waiting = new AtPos(h.app, await h.runtime.cashboxes.create('AT'))
      const local = new AtPos(h.app, await h.runtime.cashboxes.create('AT'))
      await waiting.provision({
        kassenId: 'KASSE-HSM-WAIT',
        aesKey: AES_KEY,
        devices: [{ number: 1, hosted: { url: hsm.url, sharedSecret: SECRET, timeoutMs: 60000 } }],
      })
      await local.provision({
        kassenId: 'KASSE-LOCAL',
        aesKey: AES_KEY,
        companyId: 'U:ATU12345678',
        devices: [{ number: 0 }],
      })
      hsm.setMode({ kind: 'held' })
      let settled = false
      const pending = waiting
        .sign(
          atReceipt({
            reference: 'W-1',
            moment: viennaToIso('2024-05-03T08:00:00'),
            caseCode: AT_CASE.start,
          }),
        )
        .finally(() => {
          settled = true
        })
      await hsm.held()
      for (const [reference, caseCode] of [
        ['L-1', AT_CASE.start],
        ['L-2', AT_CASE.pos],
      ] as const) {
        const reply = await local.sign(
          atReceipt({
            reference,
            moment: viennaToIso('2024-05-03T08:01:00'),
            caseCode,
            sets: caseCode === AT_CASE.pos ? [500n] : undefined,
          }),
        )
        assert.equal(reply.status, 200, reply.payload)
      }
      assert.equal(settled, false, 'the other cash box signed while the HSM still held this call')
      hsm.setMode({ kind: 'ok' })
      hsm.release()
      const signed = await pending
      assert.equal(signed.status, 200, signed.payload)
      assert.equal(stateBits(signed.json().ftState).low & 0x2n, 0n)
      assert.ok(verifiesWith(hsm.certificate, await jwsOf(waiting, signed.json().ftReceiptIdentification)))
    })

    test('a hosted device is refused with the field and the rule, and nothing is written', async () => {
      const box = await h.runtime.cashboxes.create('AT')
      const pos = new AtPos(h.app, box)
      const provision = (device: Record<string, unknown>) =>
        pos.request('PUT', '/at/v1/cashbox', {
          kassenId: 'KASSE-HSM-BAD',
          aesKey: AES_KEY,
          devices: [device],
        })
      const cases: [Record<string, unknown>, number, string][] = [
        [
          { number: 1, provider: 'AT0', hosted: { url: hsm.url, sharedSecret: SECRET } },
          400,
          'devices[0].provider',
        ],
        [
          { number: 1, hosted: { url: 'http://hsm.example.com', sharedSecret: SECRET } },
          400,
          'devices[0].hosted.url',
        ],
        [{ number: 1, hosted: { url: hsm.url, sharedSecret: 'wrong-secret' } }, 502, 'devices[0].hosted.url'],
      ]
      for (const [device, status, field] of cases) {
        const reply = await provision(device)
        assert.equal(reply.status, status, reply.payload)
        assert.ok(reply.payload.includes(field), reply.payload)
        assert.ok(!reply.payload.includes(SECRET))
      }
      const described = await pos.request('GET', '/at/v1/cashbox')
      assert.notEqual(described.status, 200, 'nothing was provisioned')
    })
  })
}
