import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { locateQr, readPng, readQrModules } from '../browser/png.ts'
import { decodeQr } from '../browser/qr-decode.ts'
import {
  fetchDocument,
  htmlText,
  issue,
  pdfImage,
  pdfText,
  readEscPos,
  signAndIssue,
} from './issue-support.ts'
import { type ItSim, startSim } from '../markets/it/pos-support.ts'
import { CONFIG as PT_CONFIG } from '../markets/pt/support.ts'
import { pay, payment } from './pay-support.ts'
import { assertProblem, newPos, qrSignatureOf, receipt, startedPos } from './support.ts'

/** The RT device an Italian cash box prints on: a simulator, started when a test first needs it. */
let rtDevice: ItSim | undefined
after(() => rtDevice?.close())

/** A receipt with two VAT rates, paid partly in cash and partly by card (through /v2/pay). */
async function mixedReceipt(pos: Awaited<ReturnType<typeof startedPos>>, country: string) {
  const paid = (await pay(pos, payment('10.00'))).json()
  // German, Spanish and Portuguese cash boxes have their own markets, which take their own rates only.
  const german = country === 'DE'
  const spanish = country === 'ES'
  const portuguese = country === 'PT'
  if (spanish) {
    // A Spanish cash box invoices once it knows its issuer (docs/country-es.md).
    const configured = await pos.app.inject({
      method: 'PUT',
      url: '/es/v1/cashbox',
      headers: pos.headers(),
      payload: { system: 'verifactu', nif: 'B12345674', name: 'Cafetería Ejemplo SL' },
    })
    assert.equal(configured.statusCode, 200, configured.body)
  }
  if (country === 'PT') {
    // A Portuguese cash box signs with its issuer's key in its registered series (docs/country-pt.md).
    const configured = await pos.app.inject({
      method: 'PUT',
      url: '/pt/v1/cashbox',
      headers: pos.headers(),
      payload: PT_CONFIG,
    })
    assert.equal(configured.statusCode, 200, configured.body)
  }
  if (country === 'IT') {
    // An Italian cash box prints on its RT device, programmed here with these rates (docs/country-it.md).
    rtDevice ??= await startSim()
    const configured = await pos.app.inject({
      method: 'PUT',
      url: '/it/v1/cashbox',
      headers: pos.headers(),
      payload: { device: 'epson-rt', url: rtDevice.url, departments: { '20': 1, '10': 2 } },
    })
    assert.equal(configured.statusCode, 200, configured.body)
  }
  return {
    ...receipt({
      country,
      charges: [
        {
          amount: '12.50',
          vat: german ? 19 : spanish ? 21 : portuguese ? 23 : 20,
          quantity: 2,
          description: 'Cappuccino grande',
        },
        { amount: '4.20', vat: german ? 7 : portuguese ? 13 : 10, description: 'Croissant' },
      ],
    }),
    cbPayItems: [
      { Description: 'Cash', Amount: '6.70', ftPayItemCase: '0x0000000000000001' },
      ...paid.ftPayItems,
    ],
  }
}

/**
 * Figures worked out by hand for mixedReceipt: VAT included in 12.50 at 20 % is 2.0833 -> 2.08 (net
 * 10.42), in 4.20 at 10 % is 0.3818 -> 0.38 (net 3.82); total 16.70.
 */
const FIGURES = ['16.70', '12.50', '4.20', '2.08', '10.42', '0.38', '3.82', '6.70', '10.00']

for (const engine of await engines()) {
  describe(`/v2/issue and the receipt documents (${engine})`, () => {
    let harness: Harness
    before(async () => {
      harness = await startHarness(engine)
    })
    after(async () => {
      await harness?.close()
    })

    test('issuing returns an unguessable public link, the same one every time', async () => {
      const pos = await startedPos(harness)
      const body = receipt()
      const { signed, issued, path } = await signAndIssue(pos, body)
      assert.equal(issued.ftQueueID, pos.queueId)
      assert.equal(issued.ftQueueItemID, signed.ftQueueItemID)
      assert.equal(issued.ftQueueRow, signed.ftQueueRow)
      const id = path.replace(/^\/r\//, '')
      assert.match(id, /^[A-Za-z0-9_-]{22}$/, '128 random bits, base64url')
      const again = (await issue(pos, body, signed)).json()
      assert.equal(again.DocumentURL, issued.DocumentURL)
      const page = await fetchDocument(pos, path)
      assert.equal(page.status, 200)
      assert.match(page.type, /^text\/html/)
      assertProblem(await pos.get(`${path.slice(0, -1)}x`), 404)
      assertProblem(await pos.get('/r/not-a-token'), 404)
    })

    test('delivery: 204 until the POS or the viewer marks it, then 200 with who and when', async () => {
      const pos = await startedPos(harness)
      const first = await signAndIssue(pos, receipt())
      const url = `/v2/issue/${pos.queueId}/${first.signed.ftQueueItemID}/delivered`
      assert.equal((await pos.get(url)).status, 204)
      const marked = await pos.post(url, {})
      assert.equal(marked.status, 200, marked.payload)
      const delivered = await pos.get(url)
      assert.equal(delivered.status, 200)
      assert.equal(delivered.json().DeliveredBy, 'pos')
      assert.match(delivered.json().message, /delivered at/)

      const second = await signAndIssue(pos, receipt())
      const url2 = `/v2/issue/${pos.queueId}/${second.signed.ftQueueItemID}/delivered`
      const viewer = await pos.app.inject({
        method: 'POST',
        url: `${second.path}/delivered`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: '',
      })
      assert.equal(viewer.statusCode, 200, viewer.payload)
      assert.equal((await pos.get(url2)).json().DeliveredBy, 'viewer')
      const notIssued = await pos.signOk(receipt())
      assertProblem(
        await pos.get(`/v2/issue/${pos.queueId}/${notIssued.response.ftQueueItemID}/delivered`),
        404,
      )
    })

    test('the receipt must be what the journal signed: altered copies, foreign and unsigned receipts are refused', async () => {
      const pos = await startedPos(harness)
      const body = receipt({ charges: [{ amount: 5, vat: 20 }] })
      const { response } = await pos.signOk(body)
      const forged = structuredClone(response)
      forged.ftSignatures[0].Data = forged.ftSignatures[0].Data.replace('5.00', '0.50')
      assertProblem(await issue(pos, body, forged), 400, 'ReceiptResponse.ftSignatures[0].Data')
      const renumbered = { ...response, ftReceiptIdentification: 'ft99#' }
      assertProblem(await issue(pos, body, renumbered), 400, 'ReceiptResponse.ftReceiptIdentification')
      const otherState = { ...response, ftState: (BigInt(response.ftState) | 0x40n).toString() }
      assertProblem(await issue(pos, body, otherState), 400, 'ReceiptResponse.ftState')
      const unsigned = { ...response, ftSignatures: undefined }
      assertProblem(await issue(pos, body, unsigned), 400, 'ReceiptResponse.ftSignatures')
      const extended = { ...response, ftChargeLines: ['5.00'] }
      assertProblem(await issue(pos, body, extended), 400, 'ReceiptResponse.ftChargeLines')
      const later = {
        ...response,
        ftReceiptMoment: new Date(Date.parse(response.ftReceiptMoment) + 1).toISOString(),
      }
      assertProblem(await issue(pos, body, later), 400, 'ReceiptResponse.ftReceiptMoment')
      const cheaper = receipt({
        reference: body.cbReceiptReference as string,
        charges: [{ amount: 4, vat: 20 }],
      })
      assertProblem(await issue(pos, cheaper, response), 400, 'ReceiptRequest')
      const other = await startedPos(harness)
      assertProblem(await issue(other, body, response), 404, 'ReceiptResponse.ftQueueID')
      const unknownItem = { ...response, ftQueueItemID: '00000000-0000-4000-8000-000000000000' }
      assertProblem(await issue(pos, body, unknownItem), 404, 'ReceiptResponse.ftQueueItemID')
      const notStarted = await newPos(harness)
      const rejectedBody = receipt()
      const rejected = await notStarted.signOk(rejectedBody)
      assertProblem(await issue(notStarted, rejectedBody, rejected.response), 400, 'ReceiptResponse')
      // Nothing was issued by any of these.
      assertProblem(await pos.get(`/v2/issue/${pos.queueId}/${response.ftQueueItemID}/delivered`), 404)
    })

    test('HTML, PDF (read back by pdftotext), text and ESC/POS show the same receipt', async () => {
      const pos = await startedPos(harness)
      const body = await mixedReceipt(pos, 'EU')
      const { signed, path } = await signAndIssue(pos, body)
      const qr = qrSignatureOf(signed).Data
      const html = htmlText((await fetchDocument(pos, path)).body.toString('utf8'))
      const pdf = await fetchDocument(pos, `${path}/receipt.pdf`)
      assert.equal(pdf.type, 'application/pdf')
      assert.equal(pdf.body.subarray(0, 5).toString(), '%PDF-')
      const pdfTextContent = pdfText(pdf.body)
      // The PDF's QR code, rasterized by poppler and read back by the tests' own decoder.
      assert.equal(decodeQr(readQrModules(locateQr(readPng(pdfImage(pdf.body))))), qr)
      const renderings: Record<string, string> = { html, pdf: pdfTextContent }
      for (const width of [42, 48]) {
        const text = (await fetchDocument(pos, `${path}/receipt.txt?width=${width}`)).body.toString('utf8')
        for (const line of text.split('\n')) assert.ok([...line].length <= width, `${width} columns: ${line}`)
        assert.ok(text.replace(/\n/g, '').includes(qr), 'the text prints the QR payload')
        renderings[`text ${width}`] = text
        const escpos = readEscPos((await fetchDocument(pos, `${path}/receipt.escpos?width=${width}`)).body)
        assert.deepEqual(escpos.qrPayloads, [qr], 'ESC/POS stores exactly the signed payload as its QR code')
        assert.ok(escpos.cut)
        for (const line of escpos.text.split('\n')) assert.ok(line.length <= width)
        renderings[`escpos ${width}`] = escpos.text
      }
      const expected = [
        ...FIGURES,
        signed.ftReceiptIdentification,
        signed.cbReceiptReference,
        'Cappuccino grande',
        'Croissant',
        'Total',
        'EUR',
        'SIMULATED VISA',
      ]
      for (const [name, content] of Object.entries(renderings)) {
        for (const field of expected)
          assert.ok(content.includes(field), `${name} lacks ${field}:\n${content}`)
      }
    })

    test('a receipt renders byte for byte the same every time, from the journal', async () => {
      const pos = await startedPos(harness)
      const { path } = await signAndIssue(pos, receipt({ charges: [{ amount: '3.33', vat: 7 }] }))
      for (const suffix of ['', '/receipt.pdf', '/receipt.txt?width=42', '/receipt.escpos?width=48']) {
        const a = await fetchDocument(pos, `${path}${suffix}`)
        const b = await fetchDocument(pos, `${path}${suffix}`)
        assert.equal(a.status, 200)
        assert.ok(a.body.equals(b.body), `${suffix || 'html'} differs between two renders`)
      }
    })

    test('the language follows the market: de, es, it, fr, pt, and en elsewhere', async () => {
      const expectations: Array<[string, string, string[]]> = [
        ['DE', 'de', ['Summe', 'MwSt.', '16,70', 'Beleg-Nr.']],
        ['AT', 'de', ['Summe', '16,70']],
        ['ES', 'es', ['Total', 'IVA', '16,70', 'Fecha']],
        ['IT', 'it', ['Totale', 'IVA', '16,70', 'Data']],
        ['FR', 'fr', ['Total', 'TVA', '16,70', 'Caisse']],
        ['PT', 'pt', ['Total', 'IVA', '16,70', 'Talão']],
        ['EU', 'en', ['Total', 'VAT', '16.70', 'Receipt no.']],
      ]
      for (const [country, language, words] of expectations) {
        const pos = await startedPos(harness, country)
        const { path } = await signAndIssue(pos, await mixedReceipt(pos, country))
        const page = (await fetchDocument(pos, path)).body.toString('utf8')
        assert.match(page, new RegExp(`<html lang="${language}"`))
        const text = htmlText(page)
        const pdf = pdfText((await fetchDocument(pos, `${path}/receipt.pdf`)).body)
        for (const word of words) {
          assert.ok(text.includes(word), `${country} HTML lacks ${word}`)
          assert.ok(pdf.includes(word), `${country} PDF lacks ${word}: ${pdf}`)
        }
      }
    })

    test('the public page is private: no cache, no index, no referrer, nothing from elsewhere', async () => {
      const pos = await startedPos(harness)
      const { path } = await signAndIssue(pos, receipt())
      const page = await pos.app.inject({ method: 'GET', url: path })
      assert.equal(page.headers['cache-control'], 'private, no-store')
      assert.equal(page.headers['referrer-policy'], 'no-referrer')
      assert.equal(page.headers['x-robots-tag'], 'noindex')
      assert.match(String(page.headers['content-security-policy']), /default-src 'none'/)
      assert.doesNotMatch(page.payload, /<script|src="http/)
    })
  })
}
