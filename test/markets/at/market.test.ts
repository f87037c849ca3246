import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { AtTables } from '../../../src/markets/at/store.ts'
import { moduleDatabase } from '../../../src/storage/module-database.ts'
import { verifyDep7 } from '../../../src/verify/dep7-verifier.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { AT_CASE, AtPos, atReceipt, payloadFields, stateBits } from './support.ts'

const AES_KEY = 'WQRtiiya3hYh/Uz44Bv3x8ETl1nrH6nCdErn69g5/lU='
const PROVISION = {
  kassenId: 'KASSE-1',
  aesKey: AES_KEY,
  companyId: 'U:ATU12345678',
  devices: [{ number: 0 }, { number: 1, keyId: 'BACKUP' }],
}

/** Key material for the verifier, from the provisioning answer (public keys) and the known AES key. */
const materialOf = (provisioned: any, aesKey = AES_KEY) => ({
  base64AESKey: aesKey,
  certificateOrPublicKeyMap: Object.fromEntries(
    provisioned.devices.map((d: any) => [
      d.certificateField,
      {
        id: d.certificateField,
        signatureDeviceType: d.certificate ? 'CERTIFICATE' : 'PUBLIC_KEY',
        signatureCertificateOrPublicKey: d.certificate ?? d.publicKey,
      },
    ]),
  ),
})

const flat = (dep: any): string[] => dep['Belege-Gruppe'].flatMap((g: any) => g['Belege-kompakt'])
const qrOf = (response: any) =>
  response.ftSignatures.find((s: any) => s.ftSignatureFormat === '0x0000000000000003')

for (const engine of await engines()) {
  describe(`Austrian market on ${engine}`, () => {
    let h: Harness
    let n = 0
    let boxes = 0
    const fresh = async (provision: Record<string, unknown> | null = PROVISION) => {
      const pos = new AtPos(h.app, await h.runtime.cashboxes.create('AT'))
      // Kassen-IDs are unique across the cash boxes of an account: each box of the suite has its own.
      const provisioned = provision
        ? await pos.provision({ ...provision, kassenId: `KASSE-F${++boxes}` })
        : undefined
      return { pos, provisioned }
    }
    const id = (prefix = 'B') => `${prefix}-${++n}`
    before(async () => {
      h = await startHarness(engine)
    })
    after(() => h.close())

    test('the /at/v1 routes are in the OpenAPI document', async () => {
      const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json()
      for (const path of [
        '/at/v1/cashbox',
        '/at/v1/signature-devices',
        '/at/v1/signature-devices/{number}/status',
        '/at/v1/dep7',
      ]) {
        assert.ok(doc.paths[path], `${path} missing`)
      }
    })

    test('an unprovisioned AT cash box refuses its start receipt with 409 and stays unstarted', async () => {
      const { pos } = await fresh(null)
      const reply = await pos.sign(
        atReceipt({ reference: id(), moment: '2024-01-02T10:00:00Z', caseCode: AT_CASE.start }),
      )
      assert.equal(reply.status, 409)
      assert.equal(reply.json().error, 'market_not_configured')
      const sale = await pos.signOk(
        atReceipt({ reference: id(), moment: '2024-01-02T10:00:00Z', caseCode: AT_CASE.pos, sets: [100n] }),
      )
      assert.equal(stateBits(sale.ftState).low, 0x1n, 'still out of operation')
      assert.equal((await pos.request('GET', '/at/v1/dep7')).status, 409)
    })

    test('provisioning: checked input, once only, generated AES key shown once and sealed at rest', async () => {
      const { pos } = await fresh(null)
      const bad = await pos.request('PUT', '/at/v1/cashbox', { ...PROVISION, kassenId: 'A_B' })
      assert.equal(bad.status, 400)
      assert.equal(bad.json().details.field, 'kassenId')
      const badKey = await pos.request('PUT', '/at/v1/cashbox', { ...PROVISION, aesKey: 'c2hvcnQ=' })
      assert.equal(badKey.json().details.field, 'aesKey')
      const noCompany = await pos.request('PUT', '/at/v1/cashbox', { ...PROVISION, companyId: undefined })
      assert.equal(noCompany.json().details.field, 'companyId')
      const withoutKey = { ...PROVISION, aesKey: undefined }
      const created = await pos.provision({ ...withoutKey, counterSize: 5 })
      assert.equal(Buffer.from(created.aesKey, 'base64').length, 32)
      assert.match(created.aesKeyCheckValue, /^[A-Za-z0-9+/]{4}$/)
      assert.deepEqual(
        created.devices.map((d: any) => d.certificateField),
        ['U:ATU12345678-K0', 'U:ATU12345678-BACKUP'],
      )
      const again = await pos.request('PUT', '/at/v1/cashbox', PROVISION)
      assert.equal(again.status, 409)
      assert.equal(again.json().error, 'already_configured')
      const described = (await pos.request('GET', '/at/v1/cashbox')).json()
      assert.equal(described.aesKey, undefined)
      assert.equal(described.aesKeyCheckValue, created.aesKeyCheckValue)
      // At rest: neither the AES key nor a private key in clear.
      const { db } = moduleDatabase<AtTables>(h.runtime.storage)
      const rows = await db.selectFrom('at_cashboxes').selectAll().execute()
      const devices = await db.selectFrom('at_signature_devices').selectAll().execute()
      const dump = JSON.stringify([rows, devices])
      assert.ok(!dump.includes(created.aesKey))
      assert.ok(!dump.includes(Buffer.from(created.aesKey, 'base64').toString('hex')))
      assert.ok(devices.every((d) => d.private_key_encrypted.startsWith('v1.')))
      const eu = new AtPos(h.app, await h.runtime.cashboxes.create('EU'))
      assert.equal((await eu.request('PUT', '/at/v1/cashbox', PROVISION)).status, 409)
    })

    test('a sale: five tax sets, QR and OCR code, receipt identification, counter and chain', async () => {
      const { pos, provisioned } = await fresh()
      const start = await pos.signOk(
        atReceipt({ reference: 'S-1', moment: '2024-01-02T09:00:00Z', caseCode: AT_CASE.start }),
      )
      assert.equal(stateBits(start.ftState).low, 0n)
      assert.equal(
        qrOf(start).Data.split('_').slice(0, 5).join('_'),
        // The Belegnummer as fiskaltrust's AT queue builds it: ft{receipt number in hex}#{RKSV receipt count}.
        `_R1-AT0_${provisioned.kassenId}_ft1#1_2024-01-02T10:00:00`,
      )
      const sale = await pos.signOk(
        atReceipt({
          reference: 'S-2',
          moment: '2024-07-02T09:30:05.250Z',
          caseCode: AT_CASE.pos,
          sets: [120034n, -550n, 1300n, 1n, 1900n],
          ocr: true,
        }),
      )
      const fields = qrOf(sale).Data.split('_')
      // Summer time in Vienna: UTC+2.
      assert.deepEqual(fields.slice(1, 10), [
        'R1-AT0',
        provisioned.kassenId,
        'ft2#2',
        '2024-07-02T11:30:05',
        '1200,34',
        '-5,50',
        '13,00',
        '0,01',
        '19,00',
      ])
      assert.equal(fields[11], 'U:ATU12345678-K0')
      const ocr = sale.ftSignatures
        .find((s: any) => s.ftSignatureFormat === '0x0000000000000005')
        .Data.split('_')
      assert.match(ocr[10], /^[A-Z2-7]+=*$/)
      assert.match(ocr[12], /^[A-Z2-7]+=*$/)
      assert.equal(sale.ftReceiptIdentification, 'ft2#2', 'the Belegnummer is the receipt identification')
      assert.ok(
        sale.ftSignatures.some(
          (s: any) => s.Data === `Kassen-ID: ${provisioned.kassenId} Belegnummer: ft2#2`,
        ),
      )
      const report = verifyDep7(await pos.dep7(), materialOf(provisioned))
      assert.deepEqual(report.problems, [])
      assert.equal(report.turnoverCents, String(120034 - 550 + 1300 + 1 + 1900))
    })

    test('refused with 400 and nothing written: decreasing date, unknown rate, amounts on a zero receipt; any POS reference is signed', async () => {
      const { pos, provisioned } = await fresh()
      await pos.signOk(
        atReceipt({ reference: 'D-1', moment: '2024-01-02T10:00:00Z', caseCode: AT_CASE.start }),
      )
      await pos.signOk(
        atReceipt({ reference: 'D-2', moment: '2024-01-02T11:00:00Z', caseCode: AT_CASE.pos, sets: [500n] }),
      )
      const before = flat(await pos.dep7())
      const earlier = await pos.sign(
        atReceipt({ reference: 'D-3', moment: '2024-01-02T10:59:59Z', caseCode: AT_CASE.pos, sets: [500n] }),
      )
      assert.equal(earlier.status, 400)
      assert.equal(earlier.json().details.field, 'cbReceiptMoment')
      const rate = await pos.sign({
        ...atReceipt({ reference: 'D-4', moment: '2024-01-02T12:00:00Z', caseCode: AT_CASE.pos }),
        cbChargeItems: [{ Quantity: 1, Description: 'x', Amount: 5, VATRate: 7 }],
        cbPayItems: [{ Description: 'cash', Amount: 5 }],
      })
      assert.equal(rate.json().details.field, 'cbChargeItems[0].VATRate')
      const zero = await pos.sign(
        atReceipt({ reference: 'D-5', moment: '2024-01-02T12:00:00Z', caseCode: AT_CASE.zero, sets: [100n] }),
      )
      assert.equal(zero.json().details.field, 'cbChargeItems')
      const device = await pos.sign(
        atReceipt({
          reference: 'D-7',
          moment: '2024-01-02T12:00:00Z',
          caseCode: AT_CASE.pos,
          sets: [1n],
          device: 9,
        }),
      )
      assert.equal(device.json().details.field, 'ftReceiptCaseData.AT.SignatureDevice')
      assert.deepEqual(flat(await pos.dep7()), before)
      // The same receipt with a valid date is then accepted.
      await pos.signOk(
        atReceipt({ reference: 'D-3', moment: '2024-01-02T11:00:00Z', caseCode: AT_CASE.pos, sets: [500n] }),
      )
      // The POS's reference is its own, not the Belegnummer: a reused one, "_" (the devkit sends
      // TestReceipt_<guid>) and spaces are all signed, each with a Belegnummer of its own.
      for (const reference of [
        'D-2',
        'TestReceipt_0f8fad5b-d9cb-469f-a165-70867728950e',
        'Tisch 4 _ Rechnung 2',
      ]) {
        const signed = await pos.signOk(
          atReceipt({ reference, moment: '2024-01-02T12:00:00Z', caseCode: AT_CASE.pos, sets: [1n] }),
        )
        assert.equal(signed.cbReceiptReference, reference)
        assert.ok(
          qrOf(signed).Data.includes(
            `_${provisioned.kassenId}_${signed.ftReceiptIdentification}_2024-01-02T13:00:00_`,
          ),
        )
      }
      const report = verifyDep7(await pos.dep7(), materialOf(provisioned))
      assert.deepEqual(report.problems, [])
    })

    test('device outage: failed receipts keep the chain, 48 h flagged with report data, a Nullbeleg recovers', async () => {
      const { pos, provisioned } = await fresh()
      await pos.signOk(
        atReceipt({ reference: 'F-1', moment: '2024-03-01T08:00:00Z', caseCode: AT_CASE.start, device: 0 }),
      )
      await pos.setDevice(0, false)
      const first = await pos.signOk(
        atReceipt({
          reference: 'F-2',
          moment: '2024-03-01T09:00:00Z',
          caseCode: AT_CASE.pos,
          sets: [1000n],
          device: 0,
        }),
      )
      assert.equal(stateBits(first.ftState).low & 0x2n, 0x2n)
      assert.equal(stateBits(first.ftState).local, 0n)
      assert.ok(qrOf(first).Data.endsWith('_U2ljaGVyaGVpdHNlaW5yaWNodHVuZyBhdXNnZWZhbGxlbg=='))
      const late = await pos.signOk(
        atReceipt({
          reference: 'F-3',
          moment: '2024-03-03T09:00:01Z',
          caseCode: AT_CASE.pos,
          sets: [200n],
          device: 0,
        }),
      )
      assert.equal(stateBits(late.ftState).local & 0x1n, 0x1n, 'over 48 h: AT 0x001')
      const report = late.ftSignatures.find((s: any) => s.Caption.includes('48 Stunden'))
      assert.deepEqual(JSON.parse(report.Data), {
        kassenId: provisioned.kassenId,
        signatureDevice: 'U:ATU12345678-K0',
        provider: 'AT0',
        outageSince: '2024-03-01T10:00:00',
      })
      await pos.setDevice(0, true)
      // Back in service, but only a zero receipt ends the outage.
      const still = await pos.signOk(
        atReceipt({
          reference: 'F-4',
          moment: '2024-03-03T10:00:00Z',
          caseCode: AT_CASE.pos,
          sets: [300n],
          device: 0,
        }),
      )
      assert.equal(stateBits(still.ftState).low & 0x2n, 0x2n)
      const recovery = await pos.signOk(
        atReceipt({ reference: 'F-5', moment: '2024-03-03T11:00:00Z', caseCode: AT_CASE.zero, device: 0 }),
      )
      assert.equal(stateBits(recovery.ftState).low & 0x2n, 0n)
      assert.ok(recovery.ftSignatures.some((s: any) => s.Caption.startsWith('Wiederinbetriebnahme')))
      const after = await pos.signOk(
        atReceipt({ reference: 'F-6', moment: '2024-03-03T12:00:00Z', caseCode: AT_CASE.pos, sets: [1n] }),
      )
      assert.equal(stateBits(after.ftState).low & 0x2n, 0n)
      const dep = await pos.dep7()
      const report7 = verifyDep7(dep, materialOf(provisioned))
      assert.deepEqual(report7.problems, [])
      assert.equal(report7.failedDeviceReceipts, 3)
      assert.equal(report7.turnoverCents, '1501')
    })

    test('several devices: switching keeps one chain, a stand-in device flags AT 0x002', async () => {
      const { pos, provisioned } = await fresh()
      await pos.signOk(
        atReceipt({ reference: 'M-1', moment: '2024-03-01T08:00:00Z', caseCode: AT_CASE.start }),
      )
      await pos.signOk(
        atReceipt({
          reference: 'M-2',
          moment: '2024-03-01T08:01:00Z',
          caseCode: AT_CASE.pos,
          sets: [100n],
          device: 1,
        }),
      )
      await pos.setDevice(1, false)
      const standIn = await pos.signOk(
        atReceipt({ reference: 'M-3', moment: '2024-03-01T08:02:00Z', caseCode: AT_CASE.pos, sets: [100n] }),
      )
      assert.equal(stateBits(standIn.ftState).local & 0x2n, 0x2n)
      assert.equal(stateBits(standIn.ftState).low & 0x2n, 0n)
      assert.equal(qrOf(standIn).Data.split('_')[11], 'U:ATU12345678-K0')
      const fields = flat(await pos.dep7())
        .map(payloadFields)
        .map((f) => f[11])
      assert.deepEqual(fields, ['U:ATU12345678-K0', 'U:ATU12345678-BACKUP', 'U:ATU12345678-K0'])
      assert.deepEqual(verifyDep7(await pos.dep7(), materialOf(provisioned)).problems, [])
    })

    test('closings: monthly and yearly due flags, Monats-, Jahres- and Schlussbeleg', async () => {
      const { pos, provisioned } = await fresh()
      await pos.signOk(
        atReceipt({ reference: 'C-1', moment: '2024-11-15T08:00:00Z', caseCode: AT_CASE.start }),
      )
      const november = await pos.signOk(
        atReceipt({ reference: 'C-2', moment: '2024-11-20T08:00:00Z', caseCode: AT_CASE.pos, sets: [100n] }),
      )
      assert.equal(stateBits(november.ftState).low, 0n)
      const january = await pos.signOk(
        atReceipt({ reference: 'C-3', moment: '2025-01-03T08:00:00Z', caseCode: AT_CASE.pos, sets: [100n] }),
      )
      // December's Monatsbeleg is the Jahresbeleg: both are due in January.
      assert.equal(
        stateBits(january.ftState).low & 0x600n,
        0x600n,
        'December passed without a Monats-/Jahresbeleg',
      )
      const closed = await pos.signOk(
        atReceipt({ reference: 'C-3a', moment: '2025-01-03T09:00:00Z', caseCode: AT_CASE.yearly }),
      )
      assert.equal(stateBits(closed.ftState).low & 0x600n, 0n)
      const march = await pos.signOk(
        atReceipt({ reference: 'C-3b', moment: '2025-03-03T09:00:00Z', caseCode: AT_CASE.pos, sets: [1n] }),
      )
      assert.equal(stateBits(march.ftState).low & 0x600n, 0x200n, 'February passed without a Monatsbeleg')
      const february = await pos.signOk(
        atReceipt({ reference: 'C-4', moment: '2026-02-03T08:00:00Z', caseCode: AT_CASE.pos, sets: [100n] }),
      )
      assert.equal(stateBits(february.ftState).low & 0x600n, 0x600n, 'and 2025 without a Jahresbeleg')
      const yearly = await pos.signOk(
        atReceipt({ reference: 'C-5', moment: '2026-02-03T09:00:00Z', caseCode: AT_CASE.yearly }),
      )
      assert.equal(stateBits(yearly.ftState).low & 0x600n, 0n)
      assert.equal(
        yearly.ftSignatures.find((s: any) => s.Caption === 'Jahresbeleg')?.Data,
        `Kassen-ID: ${provisioned.kassenId} Belegnummer: ${yearly.ftReceiptIdentification}`,
      )
      const monthly = await pos.signOk(
        atReceipt({ reference: 'C-6', moment: '2026-02-28T22:00:00Z', caseCode: AT_CASE.monthly }),
      )
      assert.equal(stateBits(monthly.ftState).low & 0x600n, 0n)
      const stop = await pos.signOk(
        atReceipt({ reference: 'C-7', moment: '2026-03-01T09:00:00Z', caseCode: AT_CASE.stop }),
      )
      assert.ok(stop.ftSignatures.some((s: any) => s.Caption === 'Schlussbeleg'))
      const afterStop = await pos.signOk(
        atReceipt({ reference: 'C-8', moment: '2026-03-01T10:00:00Z', caseCode: AT_CASE.pos, sets: [1n] }),
      )
      assert.equal(stateBits(afterStop.ftState).low, 0x1n)
      const dep = await pos.dep7()
      assert.equal(flat(dep).length, 9)
      assert.deepEqual(verifyDep7(dep, materialOf(provisioned)).problems, [])
      const period = await pos.dep7('?from=2025-01-01T00:00:00Z&to=2026-02-03T09:00:00Z')
      assert.deepEqual(
        flat(period).map((j) => payloadFields(j)[3]),
        // the Belegnummern of C-3, C-3a, C-3b, C-4 and C-5 (receipts 3 to 7 of the queue)
        ['ft3#3', 'ft4#4', 'ft5#5', 'ft6#6', 'ft7#7'],
      )
    })
  })
}
