import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { X509Certificate } from 'node:crypto'
import { JournalVerifier } from '../../src/verify/journal-verifier.ts'
import { verifyJsonlFile } from '../../src/verify/verify-file.ts'
import { certifiedTills } from '../dashboard/certificates-support.ts'
import { cliEnv, runCli } from '../cli/cli-process.ts'
import {
  austrianCashbox,
  type DashboardWorld,
  dashboardWorld,
  dep7KeysFromCli,
} from '../dashboard/support.ts'
import type { AtPos } from '../markets/at/support.ts'
import { pkcs12, testCa, testClient } from '../helpers/test-certificates.ts'

const OUTPUT = join(import.meta.dirname, '../../test-output')

/** Every visible form control has a label a screen reader announces. */
async function unlabelled(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('input:not([type=hidden]), select, button')]
      .filter((el) => {
        const control = el as HTMLInputElement
        const named =
          (control.labels?.length ?? 0) > 0 || el.getAttribute('aria-label') || el.textContent?.trim()
        return !named
      })
      .map((el) => el.outerHTML),
  )
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(OUTPUT, { recursive: true })
  writeFileSync(join(OUTPUT, `dashboard-${name}.png`), await page.screenshot({ fullPage: true }))
}

describe('the dashboard in a browser (headless Chromium, tablet viewport)', () => {
  let world: DashboardWorld
  let base: string
  let browser: Browser
  let context: BrowserContext
  let downloads: string
  let wien: AtPos
  before(async () => {
    world = await dashboardWorld('sqlite')
    wien = await austrianCashbox(world.harness, world.shop.accountId, 'Shop Wien register')
    await world.harness.app.listen({ port: 0, host: '127.0.0.1' })
    const address = world.harness.app.server.address()
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    })
    context = await browser.newContext({ viewport: { width: 1024, height: 768 }, acceptDownloads: true })
    downloads = mkdtempSync(join(tmpdir(), 'fiscalbox-downloads-'))
  })
  after(async () => {
    await context?.close()
    await browser?.close()
    await world?.close()
    if (downloads) rmSync(downloads, { recursive: true, force: true })
  })

  test('an operator signs in, finds a cash box, opens a receipt, exports, retries a dead job', async () => {
    const page = await context.newPage()
    await page.goto(`${base}/dashboard`)
    assert.equal(new URL(page.url()).pathname, '/dashboard/login')
    assert.deepEqual(await unlabelled(page), [])
    await shot(page, 'sign-in')
    // Keyboard only: the fields by their labels, Enter sends the form.
    await page.getByLabel('E-mail').fill(world.shop.email)
    await page.getByLabel('Password').fill(world.shop.password)
    await page.getByLabel('Password').press('Enter')
    await page.waitForURL('**/dashboard/cashboxes')

    // The first Tab reaches the skip link.
    await page.keyboard.press('Tab')
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content')
    await page.getByLabel('Find a cash box').fill('till')
    await page.getByLabel('Find a cash box').press('Enter')
    await page.waitForURL('**/dashboard/cashboxes?q=till')
    const table = page.getByRole('region', { name: 'Cash boxes' })
    assert.equal(await table.getByRole('link').count(), 1, 'only the shop’s own cash box')
    assert.match(await table.innerText(), /EU\s+generic\s+started/)
    assert.equal(await page.locator('svg.chart[role=img]').count(), 1, 'the receipts-per-hour chart')
    assert.deepEqual(await unlabelled(page), [])
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 0, 'fits a 1024 px tablet without scrolling sideways')
    await shot(page, 'cashboxes')

    await table.getByRole('link', { name: 'Shop till 1' }).click()
    await page.getByLabel('Receipt reference starts with').fill('Shop-0005')
    await page.getByRole('button', { name: 'Search' }).click()
    await page.getByText('1 queue items found').waitFor()
    await shot(page, 'journal')
    await page.getByRole('link', { name: 'Shop-0005' }).click()
    assert.equal((await page.locator('#total').textContent())?.trim(), '15.00 EUR')
    await page.goBack()

    await page.getByRole('link', { name: 'Closings and their totals' }).click()
    await page.getByRole('heading', { name: 'daily closing 1' }).waitFor()
    await shot(page, 'closings')
    await page.goBack()

    await page.getByRole('button', { name: 'Export this journal' }).click()
    await page.waitForURL('**/dashboard/exports/*')
    // The page reloads itself until the export and its verification are done.
    await page.locator('#verify-result').waitFor({ timeout: 60_000 })
    const verdict = await page.locator('#verify-result').innerText()
    assert.match(verdict, /^OK: 14 receipts, chain verified/)
    await shot(page, 'export')
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the export' }).click(),
    ])
    const file = join(downloads, download.suggestedFilename())
    await download.saveAs(file)
    const report = await verifyJsonlFile(file, new JournalVerifier())
    assert.deepEqual(report.problems, [])
    assert.equal(report.receipts, 14)

    // A country export: the Austrian cash box's DEP7, from the formats the exports page lists for it.
    await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Exports' }).click()
    await page.getByLabel('Cash box').selectOption(wien.box.cashboxId)
    await page.getByRole('button', { name: 'Show its exports' }).click()
    const dep7 = page.getByRole('form', { name: /^DEP7/ })
    assert.deepEqual(await unlabelled(page), [])
    await shot(page, 'exports')
    await dep7.getByRole('button', { name: /^Start DEP7/ }).click()
    await page.waitForURL('**/dashboard/exports/*')
    await page.locator('#verify-result').waitFor({ timeout: 60_000 })
    assert.match(await page.locator('#verify-result').innerText(), /^OK: DEP7 with 4 receipts/)
    const [dep7Download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the export' }).click(),
    ])
    const dep7File = join(downloads, dep7Download.suggestedFilename())
    await dep7Download.saveAs(dep7File)
    // Checked by the CLI in its own process, with the key material an auditor gets from it.
    const env = cliEnv({ DATABASE_URL: world.harness.databaseUrl, FISCALBOX_DATA_DIR: world.harness.dataDir })
    const keys = await dep7KeysFromCli(env, wien.box.cashboxId, downloads)
    const verified = await runCli(['verify', dep7File, '--keys', keys], env)
    assert.equal(verified.code, 0, `${verified.stdout}${verified.stderr}`)
    assert.match(verified.stdout, /^OK: DEP7 with 4 receipts/)

    await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Outbox' }).click()
    const deadLetters = page.getByRole('region', { name: 'Dead letters' })
    assert.match(await deadLetters.innerText(), /ECONNREFUSED|connect|fetch failed/i)
    await shot(page, 'outbox')
    const scope = { accountId: world.shop.accountId }
    const before = await world.harness.runtime.v1.jobStore.find(scope, world.deadJobId)
    await deadLetters.getByRole('button', { name: `Retry job ${world.deadJobId}` }).click()
    await page.getByRole('status').waitFor()
    assert.match(await page.getByRole('status').innerText(), /is pending again/)
    // Revived: back to pending with its attempts reset (the worker may have tried it once more since).
    const revived = await world.harness.runtime.v1.jobStore.find(scope, world.deadJobId)
    assert.equal(before?.status, 'dead')
    assert.ok(revived && revived.updatedAt > (before?.updatedAt ?? ''), 'the job was changed by the retry')

    await page.getByRole('link', { name: 'Locations' }).click()
    await page.getByRole('cell', { name: 'EU', exact: true }).waitFor()
    await shot(page, 'locations')
    await page.getByRole('link', { name: 'Transactions' }).click()
    await page.getByRole('region', { name: 'Transactions' }).waitFor()
    await shot(page, 'transactions')
    await page.close()
  })

  test("another account's cash box is refused, as one that does not exist", async () => {
    const page = await context.newPage()
    const response = await page.goto(`${base}/dashboard/cashboxes/${world.other.pos.box.cashboxId}`)
    assert.equal(response?.status(), 404)
    assert.match(await page.getByRole('alert').innerText(), /no such cash box in your account/)
    const list = await page.goto(`${base}/dashboard/cashboxes`)
    assert.equal(list?.status(), 200)
    assert.equal((await page.content()).includes(world.other.pos.box.cashboxId), false)
    await page.close()
  })

  test('the certificates page lists the TSS and device certificates and marks the one that expires soon', async () => {
    const { at } = await certifiedTills(world.harness.app, world.harness.runtime, world.shop.accountId, {
      days: 12,
      serial: '51c0ffee00000001',
      kassenId: 'BROWSER-SHOP-1',
    })
    const page = await context.newPage()
    await page.goto(`${base}/dashboard/cashboxes`)
    await page
      .getByRole('navigation', { name: 'Dashboard' })
      .getByRole('link', { name: 'Certificates' })
      .click()
    await page.waitForURL('**/dashboard/certificates')
    assert.match(
      await page.getByRole('alert').innerText(),
      /1 of them expired or expire within 30 days[\s\S]*signature device 1 \(Wien till\): expires in 11 days/,
    )
    const table = page.getByRole('region', { name: 'Certificates and keys' })
    const expiring = table.getByRole('row').filter({ hasText: 'signature device 1' })
    assert.match(await expiring.innerText(), /expires in 11 days: replace it/)
    assert.equal(
      await expiring.getByRole('link', { name: 'Wien till' }).getAttribute('href'),
      `/dashboard/cashboxes/${at.box.cashboxId}`,
    )
    assert.equal(await table.getByRole('row').filter({ hasText: 'TSS certificate' }).count(), 1)
    assert.equal(await table.getByRole('columnheader', { name: 'Valid until (UTC)' }).count(), 1)
    assert.deepEqual(await unlabelled(page), [])
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 0, 'fits a 1024 px tablet without scrolling sideways')
    await page.close()
  })

  test('an operator imports a .p12 file and PEM files with the form, and an expired one is refused on the page', async () => {
    const ca = await testCa('C=ES, O=fiscalbox tests, CN=Browser test CA')
    const taxpayer = await testClient(
      ca,
      'C=ES, O=Tienda del Navegador SL, CN=TIENDA DEL NAVEGADOR SL - B22222222',
      { to: 730 },
    )
    const expired = await testClient(ca, 'C=ES, CN=Caducado en el navegador', { from: -400, to: -35 })
    const representative = await testClient(ca, 'C=ES, CN=Representante del navegador', { to: 730 })
    const password = 'browser p12 secret'
    const page = await context.newPage()
    await page.goto(`${base}/dashboard/certificates`)
    const form = page.getByRole('form', { name: 'Import a certificate' })
    const send = async () => {
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        form.getByRole('button', { name: 'Import the certificate' }).click(),
      ])
      await page.waitForLoadState()
      return response
    }

    await form.getByLabel('.p12 / .pfx file').setInputFiles({
      name: 'caducado.p12',
      mimeType: 'application/x-pkcs12',
      buffer: pkcs12(expired.key, [expired.cert], password),
    })
    await form.getByLabel(/^Password/).fill(password)
    const refused = await send()
    assert.equal(refused.status(), 400)
    const alert = page.getByRole('alert').filter({ hasText: 'Not imported' })
    assert.match(
      await alert.innerText(),
      /Not imported: expired[\s\S]*"CN=Caducado en el navegador, C=ES" expired on/,
    )
    assert.ok(!(await page.content()).includes(password), 'the password is not sent back')
    assert.equal(await page.getByRole('region', { name: 'Imported certificates' }).count(), 0)

    await page
      .getByRole('form', { name: 'Import a certificate' })
      .getByLabel('.p12 / .pfx file')
      .setInputFiles({
        name: 'tienda.p12',
        mimeType: 'application/x-pkcs12',
        buffer: pkcs12(taxpayer.key, [taxpayer.cert, ca.cert], password),
      })
    await form.getByLabel(/^Password/).fill(password)
    await form.getByLabel(/^Name/).fill('Tienda del navegador')
    const imported = await send()
    assert.equal(imported.status(), 303)
    assert.match(await page.getByRole('status').innerText(), /Imported “Tienda del navegador”/)

    // The key and the chain as two PEM files, read by the page and sent as one text.
    await form.getByLabel(/^PEM files/).setInputFiles([
      { name: 'key.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from(representative.key) },
      {
        name: 'chain.pem',
        mimeType: 'application/x-pem-file',
        buffer: Buffer.from(`${representative.cert}${ca.cert}`),
      },
    ])
    assert.equal((await send()).status(), 303)

    const table = page.getByRole('region', { name: 'Imported certificates' })
    const leaf = new X509Certificate(taxpayer.cert)
    const row = table.getByRole('row').filter({ hasText: 'Tienda del navegador' })
    const cells = await row.locator('td').allInnerTexts()
    assert.deepEqual(cells.slice(0, 6), [
      'CN=TIENDA DEL NAVEGADOR SL - B22222222, O=Tienda del Navegador SL, C=ES',
      'CN=Browser test CA, O=fiscalbox tests, C=ES',
      leaf.serialNumber,
      new Date(leaf.validFrom).toISOString().replace('T', ' ').slice(0, 19),
      new Date(leaf.validTo).toISOString().replace('T', ' ').slice(0, 19),
      '1',
    ])
    assert.equal(await table.getByRole('row').filter({ hasText: 'Representante del navegador' }).count(), 1)
    assert.equal(
      (await world.harness.runtime.v1.certificates.list(world.shop.accountId)).length,
      2,
      'the expired one was not stored',
    )
    assert.deepEqual(await unlabelled(page), [])
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 0, 'fits a 1024 px tablet without scrolling sideways')
    await shot(page, 'certificates')
    await page.close()
  })
})
