import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { cliEnv } from '../../cli/cli-process.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import {
  AT_CASE,
  AtPos,
  atReceipt,
  exportAndVerifyDep7,
  payloadFields,
  stateBits,
  viennaToIso,
} from './support.ts'

const AES_KEY = 'WQRtiiya3hYh/Uz44Bv3x8ETl1nrH6nCdErn69g5/lU='

/**
 * Issue 15, item 8. RKSV § 17 (4): after a signature device outage, a signed Sammelbeleg with amount zero
 * over the receipts marked "Sicherheitseinrichtung ausgefallen"; Erlass 3.6.1: it shows the beginning and
 * the end of the outage (e.g. by the receipt numbers), and comes right after the last failed receipt or
 * after the first receipt signed again. A-SIT (README, 18.11.2016): Startbeleg, Jahresbeleg and the
 * Sammelbeleg must carry a valid signature; Monatsbeleg and Schlussbeleg may be failed; a Monatsbeleg does
 * not replace the Sammelbeleg (at-registrierkassen-mustercode issue 235).
 */
for (const engine of await engines()) {
  describe(`Austrian Sammelbeleg on ${engine}`, () => {
    let h: Harness
    let work: string
    before(async () => {
      h = await startHarness(engine)
      work = mkdtempSync(join(tmpdir(), 'fiscalbox-sammel-'))
    })
    after(async () => {
      await h.close()
      rmSync(work, { recursive: true, force: true })
    })

    test('an outage ends with a signed Sammelbeleg naming its first and last receipt; a Monatsbeleg does not end it; the DEP7 export verifies', async () => {
      const box = await h.runtime.cashboxes.create('AT')
      const pos = new AtPos(h.app, box)
      await pos.provision({
        kassenId: 'KASSE-SAMMEL',
        aesKey: AES_KEY,
        companyId: 'U:ATU12345678',
        devices: [{ number: 0 }],
      })
      const sign = (reference: string, local: string, caseCode: string, sets?: bigint[]) =>
        pos.signOk(atReceipt({ reference, moment: viennaToIso(local), caseCode, ...(sets ? { sets } : {}) }))
      await sign('S-1', '2024-05-02T08:00:00', AT_CASE.start)
      await sign('S-2', '2024-05-02T09:00:00', AT_CASE.pos, [1000n])
      await pos.setDevice(0, false)
      const firstFailed = await sign('S-3', '2024-05-31T18:00:00', AT_CASE.pos, [200n])
      assert.equal(stateBits(firstFailed.ftState).low & 0x2n, 0x2n)
      await sign('S-4', '2024-05-31T19:00:00', AT_CASE.pos, [300n])
      await pos.setDevice(0, true)
      // A Monatsbeleg may be failed, and it is no Sammelbeleg: the outage goes on.
      const monthly = await sign('S-5', '2024-06-01T07:00:00', AT_CASE.monthly)
      assert.equal(stateBits(monthly.ftState).low & 0x2n, 0x2n, 'the Monatsbeleg does not end the outage')
      // The Jahresbeleg must be signed: refused while the outage is open, nothing written.
      const yearly = await pos.sign(
        atReceipt({ reference: 'S-6', moment: viennaToIso('2024-06-01T07:30:00'), caseCode: AT_CASE.yearly }),
      )
      assert.equal(yearly.status, 409, yearly.payload)
      assert.match(yearly.json().message, /Jahresbeleg must be signed.*zero receipt/)
      const sammel = await sign('S-7', '2024-06-01T08:00:00', AT_CASE.zero)
      assert.equal(stateBits(sammel.ftState).low & 0x2n, 0n)
      const identification = sammel.ftSignatures.find(
        (s: any) => s.Data === `Kassen-ID: KASSE-SAMMEL Belegnummer: ${sammel.ftReceiptIdentification}`,
      )
      assert.equal(identification?.Caption, 'Sammelbeleg')
      const content = sammel.ftSignatures.find(
        (s: any) => s.Caption === 'Sammelbeleg: Ausfall der Sicherheitseinrichtung',
      )
      assert.ok(content, JSON.stringify(sammel.ftSignatures))
      assert.deepEqual(JSON.parse(content.Data), {
        kassenId: 'KASSE-SAMMEL',
        ausfallBeginn: { belegnummer: firstFailed.ftReceiptIdentification, zeitpunkt: '2024-05-31T18:00:00' },
        ausfallEnde: { belegnummer: monthly.ftReceiptIdentification, zeitpunkt: '2024-06-01T07:00:00' },
        belegeOhneSignatur: 3,
      })
      const qr = sammel.ftSignatures.find((s: any) => s.ftSignatureFormat === '0x0000000000000003')
      assert.equal(qr.Caption, 'Registrierkassen-Signatur (RKSV)')
      assert.deepEqual(qr.Data.split('_').slice(5, 10), ['0,00', '0,00', '0,00', '0,00', '0,00'])
      // A zero receipt outside an outage stays a Nullbeleg.
      const plain = await sign('S-8', '2024-06-02T08:00:00', AT_CASE.zero)
      assert.ok(plain.ftSignatures.some((s: any) => s.Caption === 'Nullbeleg'))

      const out = join(work, `dep7-${engine}.json`)
      const keys = join(work, `keys-${engine}.json`)
      const env = cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })
      const report = await exportAndVerifyDep7(env, box.cashboxId, out, keys)
      assert.deepEqual(report.problems, [])
      assert.equal(report.failedDeviceReceipts, 3)
      assert.equal(report.receipts, 7)
      assert.equal(report.turnoverCents, '1500')
      const dep = await pos.dep7()
      const jwss = dep['Belege-Gruppe'].flatMap((g: any) => g['Belege-kompakt'])
      assert.equal(payloadFields(jwss[5])[3], sammel.ftReceiptIdentification)
      assert.notEqual(
        Buffer.from(jwss[5].split('.')[2], 'base64url').toString(),
        'Sicherheitseinrichtung ausgefallen',
      )
    })
  })
}
