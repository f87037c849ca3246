import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { compactVerify, importSPKI } from 'jose'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { cliEnv, runCli } from '../cli/cli-process.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { jwsOf } from '../markets/fr/support.ts'
import { type ItSim, startSim } from '../markets/it/pos-support.ts'
import { CONFIG as PT_CONFIG } from '../markets/pt/support.ts'
import { xmllintSaft } from '../markets/pt/xsd.ts'
import { bearer, createTransaction, getTransaction, newAccount, postLocation, sale } from './support.ts'

/**
 * An Italian location of the transactions API v1 (docs/transactions-api-v1.md, "Locations signed by their
 * country's market"): its transactions are printed by the RT device of its country_config through the same
 * Italian market as /v2/sign, on a cash box of the location's own, and checked against the device simulator's
 * electronic journal. The outbox workers are not started: the request's inline attempt signs, and later
 * attempts run by hand (runDueOnce).
 */
const SERIAL = '99IEB054321'

/** The docs' example sale at Italian rates: 2 x 2.50 + 3.00, prices with VAT, total 8.00. */
const italianSale = (locationId: string) =>
  sale(locationId, {
    items: [
      { description: 'Caffè', quantity: 2, unit_price: 2.5, tax_rate: 0.22 },
      { description: 'Cornetto', quantity: 1, unit_price: 3.0, tax_rate: 0.1 },
    ],
    pretax_amount: 6.83,
    tax_amount: 1.17,
    total_amount: 8.0,
    payment_method: 'cash',
  })

for (const engine of await engines()) {
  describe(`transactions API v1: IT locations signed by the Italian market (${engine})`, () => {
    let h: Harness
    before(async () => {
      h = await startHarness(engine, {
        v1: { engine: { backoffBaseMs: 20, backoffMaxMs: 100 }, rateLimit: { perMinute: 1e6, burst: 1e6 } },
      })
    })

    /** Runs the outbox's due jobs until the transaction has left the outbox's own statuses. */
    const settle = async (key: string, id: string) => {
      for (let i = 0; i < 600; i++) {
        const transaction = await getTransaction(h.app, key, id)
        if (!['pending', 'processing', 'failed'].includes(transaction.status)) return transaction
        await h.runtime.v1.jobs.runDueOnce()
        await delay(50)
      }
      return getTransaction(h.app, key, id)
    }
    after(() => h.close())

    const newItLocation = async (key: string, sim: { url: string }) => {
      // The shop's printer for live transactions, the simulator for test ones (test keys sign here).
      const config = { device: 'epson-rt', url: 'http://127.0.0.1:9', test: { url: sim.url } }
      const response = await postLocation(h.app, key, 'IT', config, 'Bar Roma')
      assert.equal(response.statusCode, 201, response.body)
      return response.json()
    }

    const withSim = async (): Promise<ItSim & AsyncDisposable> => {
      const sim = await startSim({ serialNumber: SERIAL })
      return Object.assign(sim, { [Symbol.asyncDispose]: () => sim.close() })
    }

    test('a sale is printed once by the location RT device and answered with its numbers; a cancellation is its void', async () => {
      await using sim = await withSim()
      const { key } = await newAccount(h.app)
      const location = await newItLocation(key, sim)
      assert.match(location.cashboxes.test, /^[0-9a-f-]{36}$/)
      assert.notEqual(location.cashboxes.test, location.cashboxes.live)
      const shown = await h.app.inject({
        method: 'GET',
        url: `/v1/locations/${location.id}`,
        headers: bearer(key),
      })
      assert.deepEqual(shown.json().cashboxes, location.cashboxes)

      const created = await createTransaction(h.app, key, italianSale(location.id), {
        'Idempotency-Key': 'it-1',
      })
      assert.equal(created.statusCode, 201, created.body)
      const transaction = created.json()
      assert.equal(transaction.status, 'success', created.body)
      const receipt = transaction.response_payload.authority
      assert.equal(receipt.ftCashBoxIdentification, SERIAL)
      assert.equal(transaction.fiscal_id, receipt.ftReceiptIdentification)
      assert.match(transaction.fiscal_id, /#0001-0001$/)
      assert.equal(BigInt(receipt.ftState) & 0xffff_ffffn, 0n, JSON.stringify(receipt))

      const [printed, ...others] = sim.documents()
      assert.equal(others.length, 0)
      assert.equal(printed?.type, 'SALE')
      assert.equal(printed?.amount, 800)
      assert.deepEqual(
        printed?.lines.map((line) => [line.description, line.quantity, line.amount, line.department]), // quantity in thousandths
        [
          ['Caffè', 2000, 500, 1],
          ['Cornetto', 1000, 300, 2],
        ],
      )

      const replay = await createTransaction(h.app, key, italianSale(location.id), {
        'Idempotency-Key': 'it-1',
      })
      assert.equal(replay.json().id, transaction.id)
      assert.equal(sim.documents().length, 1, 'a replay prints nothing')

      const cancelled = await h.app.inject({
        method: 'POST',
        url: `/v1/transactions/${transaction.id}/cancel`,
        headers: bearer(key),
        payload: { reason: 'wrong table' },
      })
      assert.equal(cancelled.statusCode, 201, cancelled.body)
      const cancellation = cancelled.json()
      assert.equal(cancellation.status, 'success', cancelled.body)
      const voided = sim.documents()[1]
      assert.equal(voided?.type, 'VOID')
      assert.deepEqual(
        [voided?.reference?.zNumber, voided?.reference?.documentNumber],
        [printed?.zNumber, printed?.documentNumber],
      )
      assert.equal((await getTransaction(h.app, key, transaction.id)).status, 'cancelled')

      // The audit: the journal of the location's test cash box holds its start receipt, the sale and the void,
      // and verifies independently.
      const env = cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })
      const journal = join(h.dataDir, `location-${location.id}.jsonl`)
      const exported = await runCli(
        ['export', 'journal', '--cashbox', location.cashboxes.test, '--out', journal],
        env,
      )
      assert.equal(exported.code, 0, exported.stderr)
      const checked = await runCli(['verify', journal], env)
      assert.match(checked.stdout, /^OK: 3 receipts, chain verified/, checked.stdout)
      const refused = await runCli(
        [
          'export',
          'transactions',
          '--location',
          location.id,
          '--environment',
          'test',
          '--out',
          join(h.dataDir, 'v1.jsonl'),
        ],
        env,
      )
      assert.notEqual(refused.code, 0)
      assert.match(refused.stderr, new RegExp(`export journal --cashbox ${location.cashboxes.test}`))
    })

    test('bad device settings are refused with 400 naming the field, and no location is stored', async () => {
      const { key } = await newAccount(h.app)
      const response = await postLocation(
        h.app,
        key,
        'IT',
        { device: 'epson-rt', url: 'ftp://printer' },
        'Bar Roma',
      )
      assert.equal(response.statusCode, 400, response.body)
      assert.match(response.body, /country_config\.url/)
      const failedMode = await postLocation(
        h.app,
        key,
        'IT',
        { device: 'epson-rt', url: 'http://127.0.0.1:9', failedMode: true },
        'Bar Roma',
      )
      assert.equal(failedMode.statusCode, 400, failedMode.body)
      const badTest = await postLocation(
        h.app,
        key,
        'IT',
        { device: 'epson-rt', url: 'http://127.0.0.1:9', test: { url: 'ftp://x' } },
        'Bar Roma',
      )
      assert.equal(badTest.statusCode, 400, badTest.body)
      assert.match(badTest.body, /country_config\.test\.url/)
      assert.match(failedMode.body, /country_config\.failedMode/)
      const list = await h.app.inject({ method: 'GET', url: '/v1/locations', headers: bearer(key) })
      assert.equal(list.json().total, 0)
    })

    test('a VAT rate without a department fails for good, named, with nothing printed', async () => {
      await using sim = await withSim()
      const { key } = await newAccount(h.app)
      const location = await newItLocation(key, sim)
      const body = italianSale(location.id)
      body.items = [{ description: 'Libro', quantity: 1, unit_price: 8, tax_rate: 0.07 }]
      const created = await createTransaction(h.app, key, body)
      assert.equal(created.statusCode, 201, created.body)
      const transaction = await settle(key, created.json().id)
      assert.equal(transaction.status, 'failed_permanent', JSON.stringify(transaction))
      assert.match(transaction.error_message, /VATRate|department/)
      assert.equal(sim.documents().length, 0)

      // Items that do not add up to what was paid would print other amounts: refused before anything is stored.
      const off = italianSale(location.id)
      off.items = [{ description: 'Libro', quantity: 1, unit_price: 5, tax_rate: 0.04 }]
      const refused = await createTransaction(h.app, key, off)
      assert.equal(refused.statusCode, 400, refused.body)
      assert.match(refused.body, /"items"|items:/)
      const listed = await h.app.inject({ method: 'GET', url: '/v1/transactions', headers: bearer(key) })
      assert.equal(listed.json().total, 1, 'only the failed sale above is stored')
    })

    test('while the device is unreachable the sale waits in the outbox; it is printed once when the device is back', async () => {
      await using sim = await withSim()
      const { key } = await newAccount(h.app)
      const location = await newItLocation(key, sim)
      await sim.setFaults({ offline: true })
      const created = await createTransaction(h.app, key, italianSale(location.id))
      assert.equal(created.statusCode, 201, created.body)
      const waiting = await getTransaction(h.app, key, created.json().id)
      assert.ok(['pending', 'failed'].includes(waiting.status), JSON.stringify(waiting))
      assert.equal(sim.documents().length, 0)

      await sim.setFaults({ offline: false })
      const done = await settle(key, created.json().id)
      assert.equal(done.status, 'success', JSON.stringify(done))
      assert.equal(sim.documents().length, 1)
    })

    test('an answer lost after the device printed is looked up, never printed twice', async () => {
      await using sim = await withSim()
      const { key } = await newAccount(h.app)
      const location = await newItLocation(key, sim)
      await sim.setFaults({ dropAfterPrintRate: 1 })
      const created = await createTransaction(h.app, key, italianSale(location.id))
      assert.equal(created.statusCode, 201, created.body)
      await sim.setFaults({ dropAfterPrintRate: 0 })
      const done = await settle(key, created.json().id)
      assert.equal(done.status, 'success', JSON.stringify(done))
      assert.equal(sim.documents().length, 1)
      assert.equal(done.fiscal_id, done.response_payload.authority.ftReceiptIdentification)
    })
  })
}

/**
 * A Portuguese location: its transactions are simplified invoices (FS) of the series its country_config
 * registers, signed with its RSA key by the Portuguese market, and the location's test cash box exports a
 * SAF-T (PT) file that the AT's schema accepts and `fiscalbox verify` recomputes.
 */
for (const engine of await engines()) {
  describe(`transactions API v1: PT locations signed by the Portuguese market (${engine})`, () => {
    let h: Harness
    before(async () => {
      h = await startHarness(engine)
    })
    after(() => h.close())

    test('a sale is a signed FS with its ATCUD; the key is sealed, not shown; a cancellation voids it; SAF-T validates', async () => {
      const { key } = await newAccount(h.app)
      const created = await postLocation(h.app, key, 'PT', PT_CONFIG, 'Café Exemplo')
      assert.equal(created.statusCode, 201, created.body)
      const location = created.json()
      assert.equal(
        location.country_config.privateKey,
        undefined,
        'the private key is not kept with the location',
      )
      assert.equal(location.country_config.nif, PT_CONFIG.nif)
      const stored = await h.app.inject({
        method: 'GET',
        url: `/v1/locations/${location.id}`,
        headers: bearer(key),
      })
      assert.doesNotMatch(stored.body, /PRIVATE KEY/)

      const body = sale(location.id, {
        items: [
          { description: 'Café com leite', quantity: 2, unit_price: 2.5, tax_rate: 0.23 },
          { description: 'Torrada', quantity: 1, unit_price: 3.0, tax_rate: 0.23 },
        ],
        pretax_amount: 6.5,
        tax_amount: 1.5,
        total_amount: 8.0,
        payment_method: 'cash',
      })
      const signed = await createTransaction(h.app, key, body)
      assert.equal(signed.statusCode, 201, signed.body)
      const transaction = signed.json()
      assert.equal(transaction.status, 'success', signed.body)
      assert.match(transaction.fiscal_id, /#FS FS2026\/1$/)
      const texts = transaction.response_payload.authority.ftSignatures.map((s: any) => s.Data).join('\n')
      assert.match(texts, /ATCUD:AAJFJNK6JJ-1/)
      assert.match(texts, /Processado por programa certificado n\.º 9999\/AT/)

      const cancelled = await h.app.inject({
        method: 'POST',
        url: `/v1/transactions/${transaction.id}/cancel`,
        headers: bearer(key),
        payload: {},
      })
      assert.equal(cancelled.statusCode, 201, cancelled.body)
      assert.equal(cancelled.json().status, 'success', cancelled.body)

      const env = cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })
      const saft = join(h.dataDir, `saft-${location.id}.xml`)
      const publicKey = join(h.dataDir, `saft-${location.id}.pem`)
      const today = new Date().toISOString().slice(0, 10)
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)
      const exported = await runCli(
        [
          'export',
          'saft-pt',
          '--cashbox',
          location.cashboxes.test,
          '--from',
          today,
          '--to',
          tomorrow,
          '--out',
          saft,
          '--public-key',
          publicKey,
        ],
        env,
      )
      assert.equal(exported.code, 0, exported.stderr)
      const lint = xmllintSaft(saft)
      assert.ok(lint.ok, lint.output)
      const xml = readFileSync(saft, 'utf8')
      assert.match(xml, /<InvoiceNo>FS FS2026\/1<\/InvoiceNo>/)
      assert.match(xml, /<InvoiceStatus>A<\/InvoiceStatus>/, 'the cancellation voided the invoice')
      const verified = await runCli(['verify', saft, '--public-key', publicKey], env)
      assert.equal(verified.code, 0, verified.stdout + verified.stderr)
    })

    test('a location without its signing key is refused with 400 naming it, and nothing is stored', async () => {
      const { key } = await newAccount(h.app)
      const withoutKey: Record<string, unknown> = { ...PT_CONFIG }
      delete withoutKey.privateKey
      const response = await postLocation(h.app, key, 'PT', withoutKey, 'Café Exemplo')
      assert.equal(response.statusCode, 400, response.body)
      assert.match(response.body, /country_config\.privateKey/)
      const list = await h.app.inject({ method: 'GET', url: '/v1/locations', headers: bearer(key) })
      assert.equal(list.json().total, 0)
    })
  })
}

/**
 * A French location: its sales are tickets of chain T (a JWS verified here with jose, not fiscalbox's own
 * code, under the key of the location's cash box that its archive names), its cancellations voids, and the
 * archive of its test cash box verifies.
 */
for (const engine of await engines()) {
  describe(`transactions API v1: FR locations signed by the French market (${engine})`, () => {
    let h: Harness
    before(async () => {
      h = await startHarness(engine)
    })
    after(() => h.close())

    test('a sale is a signed ticket of chain T carrying the SIRET; a cancellation is its void; the archive verifies', async () => {
      const { key } = await newAccount(h.app)
      const refused = await postLocation(
        h.app,
        key,
        'FR',
        { siret: '12345678901234', name: 'Bistrot' },
        'Bistrot',
      )
      assert.equal(refused.statusCode, 400, refused.body)
      assert.match(refused.body, /country_config\.siret/)
      const created = await postLocation(
        h.app,
        key,
        'FR',
        { siret: '73282932000074', name: 'Bistrot SARL' },
        'Bistrot',
      )
      assert.equal(created.statusCode, 201, created.body)
      const location = created.json()

      const body = sale(location.id, {
        items: [
          { description: 'Café crème', quantity: 2, unit_price: 3.2, tax_rate: 0.1 },
          { description: 'Croissant', quantity: 1, unit_price: 1.6, tax_rate: 0.055 },
        ],
        pretax_amount: 7.336,
        tax_amount: 0.664,
        total_amount: 8.0,
        payment_method: 'card',
      })
      const signed = await createTransaction(h.app, key, body)
      assert.equal(signed.statusCode, 201, signed.body)
      const transaction = signed.json()
      assert.equal(transaction.status, 'success', signed.body)
      const cancelled = await h.app.inject({
        method: 'POST',
        url: `/v1/transactions/${transaction.id}/cancel`,
        headers: bearer(key),
        payload: {},
      })
      assert.equal(cancelled.statusCode, 201, cancelled.body)
      assert.equal(cancelled.json().status, 'success', cancelled.body)

      const env = cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })
      const archive = join(h.dataDir, `archive-${location.id}.jsonl`)
      const period = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric' }).format(
        new Date(),
      )
      const exported = await runCli(
        ['export', 'archive-fr', '--cashbox', location.cashboxes.test, '--period', period, '--out', archive],
        env,
      )
      assert.equal(exported.code, 0, exported.stderr)
      const verified = await runCli(['verify', archive], env)
      assert.equal(verified.code, 0, verified.stdout + verified.stderr)

      // jose, under the key the archive names, verifies the ticket the v1 answer carried.
      const header = JSON.parse(readFileSync(archive, 'utf8').split('\n')[0] as string)
      const publicKey = await importSPKI(header.publicKey, 'ES256')
      const { payload } = await compactVerify(jwsOf(transaction.response_payload.authority), publicKey)
      const ticket = JSON.parse(new TextDecoder().decode(payload))
      assert.equal(ticket.chain, 'T')
      assert.match(JSON.stringify(ticket), /73282932000074/)
    })
  })
}
