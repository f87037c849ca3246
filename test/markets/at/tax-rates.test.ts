import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { verifyDep7 } from '../../../src/verify/dep7-verifier.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { AT_CASE, AtPos, atReceipt, payloadFields, viennaToIso } from './support.ts'

const AES_KEY = 'WQRtiiya3hYh/Uz44Bv3x8ETl1nrH6nCdErn69g5/lU='

/** POS System API v2 ftChargeItemCase for AT with the given VAT nibble. */
const itemCase = (vat: number) => `0x415420000000000${vat}`

const item = (vatCase: number, rate: number, amount = 10.49) => ({
  Quantity: 1,
  Description: 'Brot',
  Amount: amount,
  VATRate: rate,
  ftChargeItemCase: itemCase(vatCase),
})

/**
 * Issue 15, item 7. Sources: A-SIT/BMF reference implementation README (13.03.2026): from 1 July 2026 the
 * 4.9 % rate is recorded in Betrag-Satz-Besonders, next to the 19 % of Jungholz and Mittelberg; Erlass
 * 3.3.4: Betrag-Satz-Besonders holds the 19 % amounts.
 */
for (const engine of await engines()) {
  describe(`Austrian VAT rates on ${engine}`, () => {
    let h: Harness
    let pos: AtPos
    let n = 0
    const sale = (local: string, items: unknown[]) => {
      const total = items.reduce((s: number, i: any) => s + i.Amount, 0)
      return pos.sign({
        ...atReceipt({ reference: `R-${++n}`, moment: viennaToIso(local), caseCode: AT_CASE.pos }),
        cbChargeItems: items,
        cbPayItems: [{ Description: 'Bar', Amount: total, ftPayItemCase: '0x4154200000000001' }],
      })
    }
    const qrFields = (reply: { json(): any }) =>
      reply
        .json()
        .ftSignatures.find((s: any) => s.ftSignatureFormat === '0x0000000000000003')
        .Data.split('_')

    before(async () => {
      h = await startHarness(engine)
      pos = new AtPos(h.app, await h.runtime.cashboxes.create('AT'))
      await pos.provision({
        kassenId: 'KASSE-RATES',
        aesKey: AES_KEY,
        companyId: 'U:ATU12345678',
        devices: [{ number: 0 }],
      })
      await pos.signOk(
        atReceipt({ reference: 'R-0', moment: viennaToIso('2026-06-01T08:00:00'), caseCode: AT_CASE.start }),
      )
    })
    after(() => h.close())

    test('4.9 % is refused on 30 June 2026 (Vienna) and booked in Betrag-Satz-Besonders from 1 July 2026', async () => {
      const early = await sale('2026-06-30T23:59:59', [item(0, 4.9)])
      assert.equal(early.status, 400, early.payload)
      assert.equal(early.json().details.field, 'cbChargeItems[0].VATRate')
      assert.match(early.json().details.reason, /4\.9 % .*from 2026-07-01/)

      const onTheDay = await sale('2026-07-01T00:00:00', [item(0, 4.9), item(3, 20, 2)])
      assert.equal(onTheDay.status, 200, onTheDay.payload)
      // Normal, Ermaessigt-1, Ermaessigt-2, Null, Besonders
      assert.deepEqual(qrFields(onTheDay).slice(5, 10), ['2,00', '0,00', '0,00', '0,00', '10,49'])
      // The super-reduced case (0x..4) names 4.9 % as well.
      const superReduced = await sale('2026-07-02T10:00:00', [item(4, 4.9, 1)])
      assert.equal(superReduced.status, 200, superReduced.payload)
      assert.equal(qrFields(superReduced)[9], '1,00')
    })

    test('a VAT rate that contradicts the VAT case is refused with 400 naming the item, and nothing is written', async () => {
      const before = (await pos.dep7())['Belege-Gruppe'].flatMap((g: any) => g['Belege-kompakt'])
      for (const [vatCase, rate] of [
        [3, 4.9], // normal case, 4.9 %: would have gone to Betrag-Satz-Normal
        [1, 20], // discounted-1 is 10 %
        [2, 10], // discounted-2 is 13 %
        [7, 20], // zero
        [3, 0],
      ] as const) {
        const reply = await sale('2026-07-03T10:00:00', [item(3, 20, 1), item(vatCase, rate)])
        assert.equal(reply.status, 400, `case ${vatCase} with ${rate} %: ${reply.payload}`)
        assert.equal(reply.json().details.field, 'cbChargeItems[1].VATRate')
        assert.match(
          reply.json().details.reason,
          new RegExp(`${rate} % contradicts the VAT case 0x\\.\\.${vatCase}`),
        )
      }
      const afterwards = (await pos.dep7())['Belege-Gruppe'].flatMap((g: any) => g['Belege-kompakt'])
      assert.deepEqual(afterwards, before)
    })

    test('19 % goes to Betrag-Satz-Besonders with the normal case too (Erlass 3.3.4), and the export verifies', async () => {
      const reply = await sale('2026-07-04T10:00:00', [
        item(3, 19, 3),
        item(1, 10, 1),
        item(2, 13, 1),
        item(7, 0, 1),
      ])
      assert.equal(reply.status, 200, reply.payload)
      assert.deepEqual(qrFields(reply).slice(5, 10), ['0,00', '1,00', '1,00', '1,00', '3,00'])
      const provisioned = (await pos.request('GET', '/at/v1/cashbox')).json()
      const dep = await pos.dep7()
      const report = verifyDep7(dep, {
        base64AESKey: AES_KEY,
        certificateOrPublicKeyMap: Object.fromEntries(
          provisioned.devices.map((d: any) => [
            d.certificateField,
            {
              id: d.certificateField,
              signatureDeviceType: 'PUBLIC_KEY',
              signatureCertificateOrPublicKey: d.publicKey,
            },
          ]),
        ),
      })
      assert.deepEqual(report.problems, [])
      const last = dep['Belege-Gruppe'].at(-1)['Belege-kompakt'].at(-1)
      assert.equal(payloadFields(last)[9], '3,00')
    })
  })
}
