import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { htmlText, pdfText, readEscPos } from '../../api/issue-support.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { ContractPos } from '../contract.ts'
import { CONFIG, PT_CASE, ptReceipt, signatureOf, VAT } from './support.ts'

/**
 * The printed elements the law asks of a Portuguese document, on the receipt /v2/issue renders: the four
 * hash characters with the certified-program sentence, the ATCUD and the QR code (the printer's QR
 * payload); the full hash is kept off paper.
 */
describe('PT receipt documents (HTML, PDF, printer)', () => {
  let h: Harness
  before(async () => {
    h = await startHarness('sqlite')
  })
  after(() => h.close())

  test('HTML and PDF carry the mention, the ATCUD and the QR code, not the full hash', async () => {
    const pos = new ContractPos(h.app, await h.runtime.cashboxes.create('PT'))
    assert.equal((await pos.request('PUT', '/pt/v1/cashbox', CONFIG)).status, 200)
    await pos.signOk(ptReceipt(PT_CASE.start, []))
    const body = ptReceipt(PT_CASE.pos, [{ amount: '3.69', vat: VAT.normal, description: 'Galão e torrada' }])
    const signed = await pos.signOk(body)
    const issued = await pos.request('POST', '/v2/issue', { ReceiptRequest: body, ReceiptResponse: signed })
    assert.equal(issued.status, 200, issued.payload)
    const path = new URL(issued.json().DocumentURL).pathname
    const get = (url: string) => h.app.inject({ method: 'GET', url })
    const html = htmlText((await get(path)).payload)
    const pdf = (await get(`${path}/receipt.pdf`)).rawPayload
    const hash = signatureOf(signed, 0x20_0012n)?.Data as string
    const mention = `${hash[0]}${hash[10]}${hash[20]}${hash[30]}-Processado por programa certificado n.º 9999/AT`
    const qr = signatureOf(signed, 0x01n)?.Data as string
    assert.match(qr, /^A:509442013\*B:999999990\*C:PT\*D:FS\*E:N\*F:\d{8}\*G:FS FS2026\/1\*H:AAJFJNK6JJ-1\*/)
    const text = { html, pdf: pdfText(pdf).replace(/\s+/g, ' ') }
    for (const [name, content] of Object.entries(text)) {
      for (const element of [mention, 'ATCUD:AAJFJNK6JJ-1', 'FS FS2026/1', 'Galão e torrada', 'IVA incluído'])
        assert.ok(content.includes(element), `${name} lacks ${element}:\n${content}`)
      assert.ok(!content.includes(hash.slice(0, 40)), `${name} prints the full hash`)
    }
    const escpos = readEscPos((await get(`${path}/receipt.escpos?width=42`)).rawPayload)
    assert.deepEqual(escpos.qrPayloads, [qr], 'the printer gets exactly the signed QR string')
    assert.ok(escpos.text.includes('ATCUD:AAJFJNK6JJ-1'), escpos.text)
  })
})
