import assert from 'node:assert/strict'
import { createHash, randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { pino } from 'pino'
import { DEFAULT_ACCOUNT_ID } from '../../src/core/cashboxes.ts'
import { deServicesOf } from '../../src/markets/de/services.ts'
import { warnOfExpiry } from '../../src/metrics/expiry-warnings.ts'
import { newAccount } from '../api-v1/support.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { runTool } from '../helpers/system-tools.ts'
import { AtPos } from '../markets/at/support.ts'
import type { DePos } from '../markets/de/support.ts'
import { CONFIG as PT_CONFIG, PUBLIC_KEY as PT_PUBLIC_KEY } from '../markets/pt/support.ts'
import { parsePrometheusText } from '../metrics/prometheus-text.ts'
import { certifiedTills, opensslFacts } from './certificates-support.ts'
import { signIn } from './support.ts'

const METRICS_TOKEN = 'certificates-metrics-token-0123456789'
const NEAR_SERIAL = '3a5f0c11d2e4b601'

/** SHA-256 of a public key's DER (SubjectPublicKeyInfo) as openssl writes it. */
function publicKeyDigest(pem: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-key-'))
  try {
    writeFileSync(join(dir, 'key.pem'), pem)
    const run = runTool('openssl', [
      'pkey',
      '-pubin',
      '-in',
      join(dir, 'key.pem'),
      '-outform',
      'DER',
      '-out',
      join(dir, 'key.der'),
    ])
    assert.ok(run.ok, run.output)
    return createHash('sha256')
      .update(readFileSync(join(dir, 'key.der')))
      .digest('hex')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

interface Row {
  state: string
  status: string
  use: string
  country: string
  holder: string
  cashbox: string
  subject: string
  serial: string
  notAfter: string
}

const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, '')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .trim()

/** The certificates table as a reader sees it: one object per row, by the column headers' order. */
function tableRows(html: string): Row[] {
  return [...html.matchAll(/<tr class="credential-([a-z-]+)">([\s\S]*?)<\/tr>/g)].map((match) => {
    const cells = [...(match[2] as string).matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) =>
      text(c[1] as string),
    )
    const [status, use, country, cashbox, holder, notAfter, , serial, subject] = cells as string[]
    return {
      state: match[1] as string,
      status: status as string,
      use: use as string,
      country: country as string,
      holder: holder as string,
      cashbox: cashbox as string,
      subject: subject as string,
      serial: serial as string,
      notAfter: notAfter as string,
    }
  })
}

const utcText = (date: Date) => date.toISOString().replace('T', ' ').slice(0, 19)

for (const engine of await engines()) {
  describe(`certificates and keys on the dashboard, in the log and in /metrics (${engine})`, () => {
    let h: Harness
    const shop = { email: 'certs-shop@example.com', password: 'shop-correct-horse-battery', accountId: '' }
    const other = { email: 'certs-other@example.com', password: 'other-correct-horse-battery', accountId: '' }
    let de: DePos
    let at: AtPos
    let otherAt: AtPos
    let tssPem: string
    let near: Awaited<ReturnType<typeof certifiedTills>>['device']
    let otherSerial: string

    before(async () => {
      h = await startHarness(engine, { metricsToken: METRICS_TOKEN })
      for (const tenant of [shop, other]) {
        tenant.accountId = (await newAccount(h.app)).accountId
        await h.runtime.operators.create(tenant.accountId, tenant.email, tenant.password)
      }
      // The shop: a German cash box (its start receipt makes its TSS) and an Austrian one whose first
      // signature device has a trust provider's certificate that ends in 10 days.
      ;({
        de,
        at,
        device: near,
      } = await certifiedTills(h.app, h.runtime, shop.accountId, {
        days: 10,
        serial: NEAR_SERIAL,
        kassenId: 'CERTS-SHOP-1',
      }))
      // A French cash box signs with its queue key, a Portuguese one with the RSA key it is configured with.
      await h.runtime.cashboxes.create('FR', 'Paris till', shop.accountId)
      const pt = await h.runtime.cashboxes.create('PT', 'Lisboa till', shop.accountId)
      const configured = await h.app.inject({
        method: 'PUT',
        url: '/pt/v1/cashbox',
        headers: { 'x-cashbox-id': pt.cashboxId, 'x-cashbox-accesstoken': pt.accessToken },
        payload: { ...PT_CONFIG, keyVersion: 2 },
      })
      assert.equal(configured.statusCode, 200, configured.body)
      otherAt = new AtPos(h.app, await h.runtime.cashboxes.create('AT', 'Graz till', other.accountId))
      const provisioned = await otherAt.provision({
        kassenId: 'CERTS-OTHER-1',
        devices: [{ number: 1, provider: 'AT1' }],
      })
      otherSerial = provisioned.devices[0].certificateField
      // The TSS certificate as the SIGN DE API hands it out, with credentials of the cash box's organization.
      const credentials = await deServicesOf(h.runtime.marketFor).credentials.create('LIVE', de.box.cashboxId)
      const auth = await h.app.inject({
        method: 'POST',
        url: '/api/v2/auth',
        payload: { api_key: credentials.api_key, api_secret: credentials.api_secret },
      })
      assert.equal(auth.statusCode, 200, auth.body)
      const tss = await h.app.inject({
        method: 'GET',
        url: `/api/v2/tss/${de.box.queueId}`,
        headers: { authorization: `Bearer ${auth.json().access_token}` },
      })
      assert.equal(tss.statusCode, 200, tss.body)
      tssPem = tss.json().certificate
    })
    after(() => h?.close())

    const certificatesPage = async (tenant: { email: string; password: string }) => {
      const { cookie } = await signIn(h.app, tenant.email, tenant.password)
      const page = await h.app.inject({ method: 'GET', url: '/dashboard/certificates', headers: { cookie } })
      assert.equal(page.statusCode, 200, page.body)
      return page.body
    }

    test('the page lists the TSS chain and the device certificates with the validity openssl reads', async () => {
      const html = await certificatesPage(shop)
      assert.match(html, /<caption>Certificates and keys, soonest expiry first<\/caption>/)
      assert.match(html, /<th scope="col">Valid until \(UTC\)<\/th>/)
      assert.match(html, /<a href="\/dashboard\/certificates" aria-current="page">Certificates<\/a>/)
      const rows = tableRows(html)
      const tss = opensslFacts(tssPem)
      const leaf = rows.find((r) => r.use === 'TSS certificate')
      assert.ok(leaf, 'the TSS certificate is listed')
      assert.equal(leaf.holder, `TSS ${de.box.queueId}`)
      assert.equal(leaf.cashbox, 'Berlin till')
      assert.equal(leaf.serial, tss.serial)
      assert.equal(leaf.notAfter, utcText(tss.notAfter))
      assert.equal(leaf.state, 'valid')
      for (const ca of ['TSS sub-CA certificate', 'TSS root CA certificate'])
        assert.ok(
          rows.some((r) => r.use === ca && r.holder === leaf.holder),
          `${ca} of the TSS is listed`,
        )
      const device = rows.find((r) => r.holder === 'signature device 1' && r.cashbox === 'Wien till')
      assert.ok(device, 'the AT device certificate is listed')
      assert.equal(device.serial, near.facts.serial)
      assert.equal(device.notAfter, utcText(near.facts.notAfter))
      assert.equal(device.subject, 'CN=RKSV device 3a5f0c11d2e4b601, O=Test trust provider')
      assert.ok(rows.some((r) => r.holder === 'signature device 2' && r.state === 'valid'))
    })

    test('the French and Portuguese signing keys are listed without expiry, never warned of', async () => {
      const rows = tableRows(await certificatesPage(shop))
      const keys = rows.filter((r) => r.country === 'FR' || r.country === 'PT')
      assert.deepEqual(
        keys.map((r) => [r.country, r.cashbox, r.state, r.status, r.notAfter]),
        [
          ['FR', 'Paris till', 'no-expiry', 'no expiry: valid until replaced', '—'],
          ['PT', 'Lisboa till', 'no-expiry', 'no expiry: valid until replaced', '—'],
        ],
      )
      const pt = keys[1] as Row
      assert.equal(pt.serial, '2', 'the key version registered with the AT')
      assert.equal(pt.subject, `public key SHA-256 ${publicKeyDigest(PT_PUBLIC_KEY).slice(0, 16)}`)
    })

    test('a certificate that ends within 30 days is marked and warned of on the page, and only it', async () => {
      const html = await certificatesPage(shop)
      const rows = tableRows(html)
      assert.deepEqual(
        rows
          .filter((r) => r.state === 'expiring' || r.state === 'expired')
          .map((r) => [r.holder, r.state, r.status]),
        [['signature device 1', 'expiring', 'expires in 9 days: replace it']],
      )
      // Soonest expiry first: the one to act on heads the table.
      assert.equal(rows[0]?.holder, 'signature device 1')
      const alert = /<section class="problem" role="alert"[\s\S]*?<\/section>/.exec(html)?.[0]
      assert.ok(alert, 'the page opens with an alert')
      assert.match(text(alert), /1 of them expired or expire within 30 days/)
      assert.match(
        text(alert),
        /AT signature device certificate \(AT1\), signature device 1 \(Wien till\): expires in 9 days/,
      )
      // The landing page says so too, and leads to the certificates.
      const { cookie } = await signIn(h.app, shop.email, shop.password)
      const landing = await h.app.inject({ method: 'GET', url: '/dashboard/cashboxes', headers: { cookie } })
      assert.match(
        landing.body,
        /<p class="problem" role="alert">1 certificate expires within 30 days or expired: <a href="\/dashboard\/certificates">/,
      )
    })

    test('the log warns of the expiring certificate, once, naming its cash box and expiry', async () => {
      const lines: string[] = []
      const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) })
      assert.equal(await warnOfExpiry(h.runtime.credentials, log), 1)
      assert.equal(lines.length, 1)
      const entry = JSON.parse(lines[0] as string)
      assert.equal(entry.level, 40)
      assert.equal(entry.cashboxId, at.box.cashboxId)
      assert.equal(entry.serial, NEAR_SERIAL)
      assert.equal(entry.daysLeft, 9)
      assert.equal(entry.notAfter, near.facts.notAfter.toISOString())
      assert.match(
        entry.msg,
        /^AT signature device certificate \(AT1\) of signature device 1 \(cash box [0-9a-f-]{36}\) expires in 9 days/,
      )
    })

    test('/metrics has the expiry of every certificate, without secrets in its labels', async () => {
      const reply = await h.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      })
      assert.equal(reply.statusCode, 200)
      const metrics = parsePrometheusText(reply.body)
      const name = 'fiscalbox_credential_not_after_timestamp_seconds'
      assert.equal(metrics.types.get(name), 'gauge')
      assert.equal(
        metrics.value(name, {
          country: 'AT',
          holder: 'signature device 1',
          cashbox: at.box.cashboxId,
          serial: NEAR_SERIAL,
        }),
        near.facts.notAfter.getTime() / 1000,
      )
      const tss = opensslFacts(tssPem)
      assert.equal(
        metrics.value(name, { country: 'DE', use: 'TSS certificate', cashbox: de.box.cashboxId }),
        tss.notAfter.getTime() / 1000,
      )
      assert.equal(
        metrics.samples.filter(
          (sample) => sample.name === name && /^(FR|PT)$/.test(sample.labels.country ?? ''),
        ).length,
        0,
        'keys without an end of validity have no expiry to export',
      )
      assert.doesNotMatch(reply.body, new RegExp(at.box.accessToken))
      assert.doesNotMatch(reply.body, /PRIVATE KEY|BEGIN CERTIFICATE/)
    })

    test("an operator sees only their account's certificates", async () => {
      // The page shows the X.509 serial in whole bytes (a leading 0 when its hex digits are odd in number),
      // the RKSV field without: the same number.
      const sameSerial = (shown: string) =>
        /^[0-9a-f]+$/i.test(shown) && BigInt(`0x${shown}`) === BigInt(`0x${otherSerial}`)
      const mine = tableRows(await certificatesPage(shop))
      assert.ok(!mine.some((r) => sameSerial(r.serial)), 'the other account’s device is not listed')
      const theirs = tableRows(await certificatesPage(other))
      assert.deepEqual(
        theirs.map((r) => [r.holder, r.cashbox, sameSerial(r.serial)]),
        [['signature device 1', 'Graz till', true]],
      )
      const html = await certificatesPage(other)
      assert.doesNotMatch(html, new RegExp(de.box.queueId))
      assert.doesNotMatch(html, new RegExp(NEAR_SERIAL))
      assert.doesNotMatch(html, /role="alert"/)
      const { cookie } = await signIn(h.app, other.email, other.password)
      const landing = await h.app.inject({ method: 'GET', url: '/dashboard/cashboxes', headers: { cookie } })
      assert.doesNotMatch(landing.body, /role="alert"/)
    })

    test("a TSS made through the SIGN DE API is the installation's: the local account's operators see it", async () => {
      const local = { email: 'certs-local@example.com', password: 'local-correct-horse-battery' }
      await h.runtime.operators.create(DEFAULT_ACCOUNT_ID, local.email, local.password)
      const credentials = await deServicesOf(h.runtime.marketFor).credentials.create('LIVE')
      const auth = await h.app.inject({
        method: 'POST',
        url: '/api/v2/auth',
        payload: { api_key: credentials.api_key, api_secret: credentials.api_secret },
      })
      const tssId = randomUUID()
      const created = await h.app.inject({
        method: 'PUT',
        url: `/api/v2/tss/${tssId}`,
        headers: { authorization: `Bearer ${auth.json().access_token}` },
        payload: {},
      })
      assert.equal(created.statusCode < 300, true, created.body)
      const tss = opensslFacts(created.json().certificate)
      const leaf = tableRows(await certificatesPage(local)).find(
        (r) => r.holder === `TSS ${tssId}` && r.use === 'TSS certificate',
      )
      assert.ok(leaf, 'the local account lists the TSS')
      assert.equal(leaf.cashbox, 'installation')
      assert.equal(leaf.notAfter, utcText(tss.notAfter))
      for (const tenant of [shop, other])
        assert.doesNotMatch(await certificatesPage(tenant), new RegExp(tssId))
    })
  })
}
