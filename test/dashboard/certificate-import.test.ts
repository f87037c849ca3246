import assert from 'node:assert/strict'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { bearer, newAccount } from '../api-v1/support.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { type Issued, pkcs12, testCa, testClient, unusableClients } from '../helpers/test-certificates.ts'
import { opensslFacts } from './certificates-support.ts'
import { signIn } from './support.ts'

// Importing and replacing an account's certificates from the dashboard (docs/dashboard.md, "Importing a
// certificate"): the same service as POST /v1/certificates and `fiscalbox certificates import`, behind the
// session and CSRF token of every dashboard form; what it refuses is named on the page, stored nowhere,
// and neither the password nor the key comes back in the page or reaches the log.

const PASSWORD = 'dashboard p12 secret'

const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim()

interface StoredRow {
  id: string
  name: string
  subject: string
  issuer: string
  serial: string
  notBefore: string
  notAfter: string
  version: string
  uses: string
}

/** The imported certificates table as a reader sees it, by its column headers' order. */
function storedRows(html: string): StoredRow[] {
  return [...html.matchAll(/<tr class="stored-certificate" id="certificate-([^"]+)">([\s\S]*?)<\/tr>/g)].map(
    (match) => {
      const cells = [...(match[2] as string).matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) =>
        text((c[1] as string).replace(/<br>[\s\S]*$/, '')),
      )
      const [name, subject, issuer, serial, notBefore, notAfter, version, uses] = cells as string[]
      return {
        id: match[1] as string,
        name: name as string,
        subject: subject as string,
        issuer: issuer as string,
        serial: serial as string,
        notBefore: notBefore as string,
        notAfter: notAfter as string,
        version: version as string,
        uses: uses as string,
      }
    },
  )
}

const alertOf = (html: string) => {
  const section =
    /<section class="problem" role="alert" aria-labelledby="refusal-heading">([\s\S]*?)<\/section>/.exec(html)
  return section ? text(section[1] as string) : undefined
}

const utcText = (date: string | Date) => new Date(date).toISOString().replace('T', ' ').slice(0, 19)

for (const engine of await engines()) {
  describe(`importing certificates from the dashboard (${engine})`, () => {
    let h: Harness
    const logLines: string[] = []
    let ca: Issued
    let taxpayer: Issued
    const shop = {
      email: 'import-shop@example.com',
      password: 'import-shop-horse-battery',
      accountId: '',
      key: '',
    }
    const other = {
      email: 'import-other@example.com',
      password: 'import-other-horse-battery',
      accountId: '',
      key: '',
    }

    before(async () => {
      h = await startHarness(engine, {
        logger: { level: 'trace', stream: { write: (line: string) => void logLines.push(line) } },
      })
      for (const tenant of [shop, other]) {
        const account = await newAccount(h.app)
        tenant.accountId = account.accountId
        tenant.key = account.key
        await h.runtime.operators.create(tenant.accountId, tenant.email, tenant.password)
      }
      ca = await testCa('C=ES, O=fiscalbox tests, CN=Dashboard test CA')
      taxpayer = await testClient(ca, 'C=ES, O=Tienda de Prueba SL, CN=TIENDA DE PRUEBA SL - B87654321')
    })
    after(() => h?.close())

    /** An operator of a new account of its own. */
    const operator = async (name: string) => {
      const tenant = {
        email: `import-${name}@example.com`,
        password: `import-${name}-horse-battery`,
        accountId: (await newAccount(h.app)).accountId,
      }
      await h.runtime.operators.create(tenant.accountId, tenant.email, tenant.password)
      return tenant
    }

    // One sign-in per operator: each costs a scrypt hash.
    const sessions = new Map<string, Promise<{ cookie: string; csrf: string }>>()
    const sessionOf = (tenant: { email: string; password: string }) => {
      if (!sessions.has(tenant.email))
        sessions.set(tenant.email, signIn(h.app, tenant.email, tenant.password))
      return sessions.get(tenant.email) as Promise<{ cookie: string; csrf: string }>
    }

    /** Signs in as the tenant and posts the form as the page's script sends it (urlencoded, file in base64). */
    const post = async (
      tenant: { email: string; password: string },
      url: string,
      fields: Record<string, string | string[]>,
    ) => {
      const { cookie, csrf } = await sessionOf(tenant)
      const form = new URLSearchParams({ _csrf: csrf, pkcs12: '', pem: '', password: '', name: '' })
      for (const [field, value] of Object.entries(fields)) {
        form.delete(field)
        for (const one of [value].flat()) form.append(field, one)
      }
      if (!('uses' in fields)) for (const use of ['tls_client', 'signing']) form.append('uses', use)
      const reply = await h.app.inject({
        method: 'POST',
        url,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form.toString(),
      })
      return { reply, cookie }
    }

    const page = async (tenant: { email: string; password: string }, url = '/dashboard/certificates') => {
      const { cookie } = await sessionOf(tenant)
      const reply = await h.app.inject({ method: 'GET', url, headers: { cookie } })
      assert.equal(reply.statusCode, 200, reply.body)
      return reply
    }

    const stored = (tenant: { accountId: string }) => h.runtime.v1.certificates.list(tenant.accountId)

    test('a PKCS#12 file is imported, listed with what openssl reads from it, and the API serves the same one', async () => {
      const file = pkcs12(taxpayer.key, [taxpayer.cert, ca.cert], PASSWORD)
      const { reply } = await post(shop, '/dashboard/certificates', {
        pkcs12: file.toString('base64'),
        password: PASSWORD,
        name: 'Tienda de Prueba',
      })
      assert.equal(reply.statusCode, 303, reply.body)
      const [only] = await stored(shop)
      assert.ok(only, 'the certificate is in the store')
      assert.equal(
        reply.headers.location,
        `/dashboard/certificates?certificate=${only.certificate.id}&outcome=imported`,
      )

      const shown = (await page(shop, reply.headers.location as string)).body
      assert.match(text(shown), /Imported “Tienda de Prueba”\./)
      const facts = opensslFacts(taxpayer.cert)
      const leaf = new X509Certificate(taxpayer.cert)
      assert.deepEqual(storedRows(shown), [
        {
          id: only.certificate.id,
          name: 'Tienda de Prueba',
          subject: 'CN=TIENDA DE PRUEBA SL - B87654321, O=Tienda de Prueba SL, C=ES',
          issuer: 'CN=Dashboard test CA, O=fiscalbox tests, C=ES',
          serial: leaf.serialNumber,
          notBefore: utcText(leaf.validFrom),
          notAfter: utcText(facts.notAfter),
          version: '1',
          uses: 'tls_client, signing',
        },
      ])
      assert.equal(facts.serial, leaf.serialNumber.toLowerCase())
      // In the expiry inventory too: the credentials table lists it as the account's, not a cash box's.
      assert.match(
        text(shown),
        new RegExp(
          `stored certificate \\(tls_client, signing\\) \\* account \\(imported\\) certificate ${only.certificate.id}`,
        ),
      )
      assert.ok(!shown.includes(PASSWORD), 'the password is not in the page')
      assert.ok(!shown.includes('PRIVATE KEY'), 'the key is not in the page')

      // The same store the API reads: the account's key lists it under the same id.
      const api = await h.app.inject({ method: 'GET', url: '/v1/certificates', headers: bearer(shop.key) })
      assert.deepEqual(
        api.json().data.map((c: { id: string; serial_number: string }) => [c.id, c.serial_number]),
        [[only.certificate.id, leaf.serialNumber]],
      )

      // The same file again: the one stored, nothing added.
      const again = await post(shop, '/dashboard/certificates', {
        pkcs12: file.toString('base64'),
        password: PASSWORD,
      })
      assert.equal(again.reply.statusCode, 303)
      assert.match(String(again.reply.headers.location), /outcome=stored$/)
      assert.match(
        text((await page(shop, again.reply.headers.location as string)).body),
        /already stored, as “Tienda de Prueba”/,
      )
      assert.equal((await stored(shop)).length, 1)
      // Another account's operator sees none of it.
      assert.deepEqual(storedRows((await page(other)).body), [])
    })

    test('a PEM key and chain, pasted, through an intermediate CA; an encrypted key with its password', async () => {
      const intermediate = await testCa('C=ES, CN=Dashboard intermediate CA', ca)
      const representative = await testClient(intermediate, 'C=ES, CN=Representante - 12345678Z')
      const { reply } = await post(other, '/dashboard/certificates', {
        pem: `${representative.cert}${intermediate.cert}${ca.cert}${representative.key}`,
      })
      assert.equal(reply.statusCode, 303, reply.body)
      const encrypted = await testClient(ca, 'C=ES, CN=Encrypted key holder')
      const sealed = createPrivateKey(encrypted.key)
        .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pem secret' })
        .toString()
      const sealedImport = await post(other, '/dashboard/certificates', {
        pem: `${sealed}${encrypted.cert}`,
        password: 'pem secret',
        uses: 'signing',
      })
      assert.equal(sealedImport.reply.statusCode, 303, sealedImport.reply.body)
      const rows = storedRows((await page(other)).body)
      assert.deepEqual(rows.map((r) => [r.name, r.issuer]).sort(), [
        ['Encrypted key holder', 'CN=Dashboard test CA, O=fiscalbox tests, C=ES'],
        ['Representante - 12345678Z', 'CN=Dashboard intermediate CA, C=ES'],
      ])
    })

    test('each unusable certificate is refused on the page with a 400 naming the problem, and nothing is stored', async () => {
      const account = await operator('refused')
      const otherCa = await testCa('C=ES, CN=Unrelated CA')
      const { expired, early, serverOnly } = await unusableClients(ca)
      const p12 = (issued: Issued) => pkcs12(issued.key, [issued.cert], PASSWORD).toString('base64')
      const cases: Array<[string, Record<string, string | string[]>, RegExp, RegExp]> = [
        [
          'wrong password',
          { pkcs12: p12(taxpayer), password: 'a guess' },
          /^Not imported: wrong password$/,
          /password: is wrong: the PKCS#12 integrity check \(MAC\) failed/,
        ],
        [
          'expired',
          { pkcs12: p12(expired), password: PASSWORD },
          /^Not imported: expired$/,
          /certificate: "CN=Expired, C=ES" expired on \d{4}-\d{2}-\d{2}T/,
        ],
        [
          'not yet valid',
          { pkcs12: p12(early), password: PASSWORD },
          /^Not imported: not yet valid$/,
          /"CN=Not yet, C=ES" is valid only from \d{4}-/,
        ],
        [
          'server authentication only',
          { pkcs12: p12(serverOnly), password: PASSWORD },
          /^Not imported: wrong key usage$/,
          /usage: the certificate does not allow TLS client authentication/,
        ],
        [
          'a chain that does not link',
          { pem: `${taxpayer.key}${taxpayer.cert}${otherCa.cert}` },
          /^Not imported: broken chain$/,
          /chain: "CN=Unrelated CA, C=ES" did not sign/,
        ],
        [
          'not a PKCS#12 file',
          { pkcs12: Buffer.from('GIF89a not a certificate at all').toString('base64'), password: PASSWORD },
          /^Not imported: unreadable$/,
          /pkcs12: is not a PKCS#12 \(\.p12 \/ \.pfx\) file/,
        ],
        [
          'PEM text without a key',
          { pem: 'hello, this is a shopping list' },
          /^Not imported: unreadable$/,
          /pem: must hold exactly one private key, it holds 0/,
        ],
        [
          'both a file and PEM',
          { pkcs12: p12(taxpayer), pem: taxpayer.cert, password: PASSWORD },
          /^Not imported$/,
          /body: send exactly one of pkcs12 .* and pem/,
        ],
        ['nothing at all', {}, /^Not imported$/, /body: send exactly one of pkcs12/],
        [
          'no use ticked',
          { pkcs12: p12(taxpayer), password: PASSWORD, uses: [] },
          /^Not imported$/,
          /uses: tick at least one use/,
        ],
      ]
      for (const [what, fields, title, message] of cases) {
        const { reply } = await post(account, '/dashboard/certificates', fields)
        assert.equal(reply.statusCode, 400, `${what}: ${reply.body.slice(0, 300)}`)
        const alert = alertOf(reply.body)
        assert.ok(alert, `${what}: the page names the problem`)
        const heading = /<h2 id="refusal-heading">([^<]*)<\/h2>/.exec(reply.body)?.[1] ?? ''
        assert.match(text(heading), title, what)
        assert.match(alert, message, what)
        assert.match(alert, /Nothing was stored/, what)
        // The file, key and password are not sent back, not even into the form.
        assert.ok(!reply.body.includes(PASSWORD) && !reply.body.includes('a guess'), `${what}: no password`)
        assert.ok(!reply.body.includes('PRIVATE KEY'), `${what}: no key`)
        const sent = [fields.pkcs12].flat()[0]
        if (sent) assert.ok(!reply.body.includes(sent.slice(0, 64)), `${what}: the file is not echoed`)
        assert.match(
          reply.body,
          /<textarea id="import-pem" name="pem"[^>]*><\/textarea>/,
          `${what}: empty form`,
        )
      }
      assert.deepEqual(await stored(account), [], 'a refused certificate is not stored')
    })

    test('a certificate is replaced under its id; a refused replacement or another account’s id changes nothing', async () => {
      const replacer = await operator('replace')
      const subject = 'C=ES, O=Renovada SL, CN=RENOVADA SL - B11111111'
      const first = await testClient(ca, subject)
      const imported = await post(replacer, '/dashboard/certificates', {
        pkcs12: pkcs12(first.key, [first.cert], PASSWORD).toString('base64'),
        password: PASSWORD,
      })
      assert.equal(imported.reply.statusCode, 303)
      const id = (await stored(replacer))[0]?.certificate.id as string
      // Its replace form posts to its own id.
      const before = (await page(replacer)).body
      assert.match(
        before,
        new RegExp(
          `<form [^>]*action="/dashboard/certificates/${id}/replace" aria-label="Replace RENOVADA SL - B11111111"`,
        ),
      )

      const expired = await testClient(ca, subject, { from: -400, to: -35 })
      const refused = await post(replacer, `/dashboard/certificates/${id}/replace`, {
        pkcs12: pkcs12(expired.key, [expired.cert], PASSWORD).toString('base64'),
        password: PASSWORD,
      })
      assert.equal(refused.reply.statusCode, 400)
      assert.match(alertOf(refused.reply.body) ?? '', /^Not replaced: expired certificate: /)
      assert.equal((await stored(replacer))[0]?.certificate.active.version, 1)

      const renewed = await testClient(ca, subject, { to: 730 })
      const foreign = await post(shop, `/dashboard/certificates/${id}/replace`, {
        pkcs12: pkcs12(renewed.key, [renewed.cert], PASSWORD).toString('base64'),
        password: PASSWORD,
      })
      assert.equal(foreign.reply.statusCode, 404, 'another account’s certificate is one that does not exist')
      assert.match(alertOf(foreign.reply.body) ?? '', new RegExp(`no certificate ${id} in this account`))
      assert.equal((await stored(replacer))[0]?.certificate.active.version, 1)

      const replaced = await post(replacer, `/dashboard/certificates/${id}/replace`, {
        pkcs12: pkcs12(renewed.key, [renewed.cert], PASSWORD).toString('base64'),
        password: PASSWORD,
      })
      assert.equal(replaced.reply.statusCode, 303, replaced.reply.body)
      assert.equal(
        replaced.reply.headers.location,
        `/dashboard/certificates?certificate=${id}&outcome=replaced`,
      )
      const after = (await page(replacer, replaced.reply.headers.location as string)).body
      assert.match(text(after), /Replaced: “RENOVADA SL - B11111111” is now version 2/)
      const [row] = storedRows(after)
      assert.equal(row?.id, id)
      assert.equal(row?.version, '2')
      assert.equal(row?.serial, new X509Certificate(renewed.cert).serialNumber)
      assert.equal(row?.notAfter, utcText(opensslFacts(renewed.cert).notAfter))
    })

    test('the forms need the session and the CSRF token, and a body over 512 KiB is refused before it is read', async () => {
      const file = pkcs12(taxpayer.key, [taxpayer.cert], PASSWORD).toString('base64')
      const account = await operator('guard')
      const { cookie, csrf } = await sessionOf(account)
      const form = (extra: Record<string, string>) =>
        new URLSearchParams({ pkcs12: file, password: PASSWORD, uses: 'signing', ...extra }).toString()
      const noToken = await h.app.inject({
        method: 'POST',
        url: '/dashboard/certificates',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({}),
      })
      assert.equal(noToken.statusCode, 403)
      assert.match(noToken.body, /security token/)
      const noSession = await h.app.inject({
        method: 'POST',
        url: '/dashboard/certificates',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({}),
      })
      assert.equal(noSession.statusCode, 303)
      assert.equal(noSession.headers.location, '/dashboard/login')
      const huge = await h.app.inject({
        method: 'POST',
        url: '/dashboard/certificates',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({ _csrf: csrf, pem: 'A'.repeat(512 * 1024) }),
      })
      assert.equal(huge.statusCode, 413)
      assert.match(huge.body, /larger than the limit/)
      assert.deepEqual(await stored(account), [])
    })

    test('the certificates page alone may run its own script; it is served as a file of the dashboard', async () => {
      const certificates = await page(shop)
      assert.match(
        String(certificates.headers['content-security-policy']),
        /default-src 'none'; script-src 'self';/,
      )
      assert.match(
        certificates.body,
        /<script src="\/dashboard\/static\/certificate-import\.js" defer><\/script>/,
      )
      const cashboxes = await page(shop, '/dashboard/cashboxes')
      assert.doesNotMatch(String(cashboxes.headers['content-security-policy']), /script-src/)
      assert.doesNotMatch(cashboxes.body, /<script/)
      const script = await h.app.inject({ method: 'GET', url: '/dashboard/static/certificate-import.js' })
      assert.equal(script.statusCode, 200)
      assert.match(String(script.headers['content-type']), /^text\/javascript/)
      const unknown = await h.app.inject({ method: 'GET', url: '/dashboard/static/..%2Findex.ts' })
      assert.equal(unknown.statusCode, 404)
    })

    test('no password, key or file reached the log', () => {
      assert.ok(logLines.length > 10, 'the requests were logged')
      const log = logLines.join('')
      assert.match(log, /\/dashboard\/certificates/)
      for (const secret of [
        PASSWORD,
        'pem secret',
        'a guess',
        'PRIVATE KEY',
        taxpayer.key.split('\n')[3] as string,
      ])
        assert.ok(!log.includes(secret), `the log does not hold ${secret.slice(0, 12)}…`)
      assert.doesNotMatch(log, /MII[A-Za-z0-9+/]{60}/, 'no base64 DER (a file, a key) in the log')
    })
  })
}
