import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { chromium, type BrowserContext } from 'playwright-core'
import QRCode from 'qrcode'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { requireTool } from '../helpers/system-tools.ts'
import { pay, payment } from '../api/pay-support.ts'
import { parseQr, qrSignatureOf, qrSignatureValid, receipt, startedPos } from '../api/support.ts'
import { readPng, readQrModules } from './png.ts'
import { decodeQr } from './qr-decode.ts'

const OUTPUT = join(import.meta.dirname, '../../test-output')

/** The Debian package's Chromium, headless, with nothing that reaches the network on its own. */
async function browser(userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: requireTool('chromium'),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
  })
}

describe('the digital receipt in a browser (headless Chromium)', () => {
  let harness: Harness
  let base: string
  let userDataDir: string
  let context: BrowserContext
  before(async () => {
    // The links' base, as PUBLIC_URL would give it: known once the server listens.
    harness = await startHarness('sqlite', { publicUrl: () => base })
    await harness.app.listen({ port: 0, host: '127.0.0.1' })
    const address = harness.app.server.address()
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
    userDataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-chromium-'))
    context = await browser(userDataDir)
  })
  after(async () => {
    await context?.close()
    await harness?.close()
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true })
  })

  test('the receipt link shows the totals and a QR code that is the signed payload', async () => {
    const pos = await startedPos(harness)
    const paid = (await pay(pos, payment('16.70'))).json()
    const body = {
      ...receipt({
        charges: [
          { amount: '12.50', vat: 20, quantity: 2, description: 'Cappuccino grande' },
          { amount: '4.20', vat: 10, description: 'Croissant' },
        ],
      }),
      cbPayItems: paid.ftPayItems,
    }
    const signed = await pos.signOk(body)
    // Issued over real HTTP; the link names the public base the browser can reach.
    const issued = await fetch(`${base}/v2/issue`, {
      method: 'POST',
      headers: pos.headers(),
      body: JSON.stringify({ ReceiptRequest: body, ReceiptResponse: signed.response }),
    })
    assert.equal(issued.status, 200)
    const { DocumentURL } = (await issued.json()) as { DocumentURL: string }
    assert.ok(DocumentURL.startsWith(`${base}/r/`), DocumentURL)

    const page = await context.newPage()
    const response = await page.goto(DocumentURL)
    assert.equal(response?.status(), 200)
    assert.equal((await page.locator('#total').textContent())?.trim(), '16.70 EUR')
    const text = await page.locator('main').innerText()
    for (const field of [
      signed.response.ftReceiptIdentification,
      'Cappuccino grande',
      '2.08',
      '10.42',
      '0.38',
    ]) {
      assert.ok(text.includes(field), `page lacks ${field}`)
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 0, 'fits a 390 px wide phone without horizontal scrolling')
    mkdirSync(OUTPUT, { recursive: true })
    writeFileSync(join(OUTPUT, 'receipt-page.png'), await page.screenshot({ fullPage: true }))

    // The QR code as the browser drew it: the screenshot's pixels, read module by module.
    const shown = readQrModules(readPng(await page.locator('svg.qr').first().screenshot()))
    const payload = qrSignatureOf(signed.response).Data
    assert.equal(decodeQr(shown), payload, 'the code on screen decodes to the signed payload')
    // The same code module for module as the encoder makes it at level M (so also its level and mask).
    const { modules } = QRCode.create(payload, { errorCorrectionLevel: 'M' })
    assert.equal(shown.length, modules.size, 'symbol size (QR version) of the payload')
    for (let r = 0; r < modules.size; r++) {
      for (let c = 0; c < modules.size; c++) {
        assert.equal(
          shown[r]?.[c],
          modules.get(r, c) === 1,
          `module ${r},${c} differs from the payload's code`,
        )
      }
    }
    // And that payload is the receipt's signed one: its signature verifies with the queue's key.
    const qr = parseQr(payload)
    assert.ok(qrSignatureValid(pos.box.publicKey, qr.signed, qr.signature))
    assert.equal(qr.total, '16.70')

    // The customer marks it received.
    await page.getByRole('button').click()
    await page.locator('#received').waitFor()
    const delivered = await pos.get(`/v2/issue/${pos.queueId}/${signed.response.ftQueueItemID}/delivered`)
    assert.equal(delivered.status, 200)
    assert.equal(delivered.json().DeliveredBy, 'viewer')
    await page.close()
  })
})
