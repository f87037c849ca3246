import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { sandboxSigningCredentials } from '../../src/markets/es/sandbox-signer.ts'
import { startSimulator } from '../../src/markets/es/simulator/app.ts'
import { spain } from '../../src/markets/es/module.ts'
import type { SigningCredentials } from '../../src/markets/es/ticketbai/xades.ts'
import type { RuntimeOptions } from '../../src/runtime.ts'
import { TicketBaiVerifier } from '../../src/verify/ticketbai-verifier.ts'
import { VerifactuVerifier } from '../../src/verify/verifactu-verifier.ts'
import { cliEnv, runCli } from '../cli/cli-process.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { xmllint } from '../markets/es/xsd.ts'
import {
  allTransactions,
  bearer,
  createTransaction,
  eventually,
  getTransaction,
  newAccount,
  newLocation,
  sale,
} from './support.ts'

// Spain through POST /v1/transactions: the ES market (the same seal and submission jobs as /v2/sign), the
// outbox and the authority simulator on a real port. The fault run injects every fault the simulator has (docs/country-es.md): errors, lost answers, hung requests and an outage.
const CLIENT_TIMEOUT_MS = 400

type Sim = Awaited<ReturnType<typeof startSimulator>>

function settings(
  sim: Sim,
  credentials: SigningCredentials,
  maxAttempts = 40,
): Pick<RuntimeOptions, 'es' | 'v1'> {
  return {
    es: {
      simulatorUrl: sim.url,
      timeoutMs: CLIENT_TIMEOUT_MS,
      testCredentials: credentials,
      // Bizkaia's batches as soon as stored: these runs wait for answers (spain-status.test.ts covers the window).
      lroeAt: 'immediate',
    },
    v1: {
      engine: {
        pollMs: 10,
        backoffBaseMs: 20,
        backoffMaxMs: 300,
        maxAttempts,
        concurrency: 2,
        leaseMs: 10_000,
      },
      defaultInlineTimeoutMs: 3_000,
      rateLimit: { perMinute: 1_000_000, burst: 1_000_000 },
    },
  }
}

const VERIFACTU = (nif: string) => ({ system: 'verifactu', nif, name: 'Bar Ejemplo SL' })
const TICKETBAI = (territory: string, nif: string) => ({
  system: 'ticketbai',
  territory,
  nif,
  name: 'Taberna Ejemplo SL',
})

const simState = async (sim: Sim) => (await fetch(`${sim.url}/_sim/state`)).json() as Promise<any>

/** The location's TicketBAI invoices (not cancellations) in chain order, through the independent verifier. */
function verifyTicketBaiChain(transactions: any[]) {
  const verifier = new TicketBaiVerifier()
  const invoices = transactions
    .filter((t) => t.type === 'sale')
    .map((t) => t.response_payload.record)
    .sort((a, b) => a.sequence - b.sequence)
  for (const r of invoices) verifier.document(r.xml, `record ${r.sequence}`)
  return { report: verifier.finish(), count: invoices.length }
}

for (const engine of await engines()) {
  void describe(`Spain on the transactions API v1 (${engine})`, () => {
    let h: Harness
    let sim: Sim
    let credentials: SigningCredentials
    before(async () => {
      credentials = await sandboxSigningCredentials()
      sim = await startSimulator()
      h = await startHarness(engine, settings(sim, credentials))
      h.runtime.v1.start()
    })
    after(async () => {
      await h.close()
      await sim.close()
    })

    test('VERI*FACTU: a sale is registered inline with its invoice number, Huella and QR; a cancellation is an anulación', async () => {
      const { key } = await newAccount(h.app)
      const location = await newLocation(h.app, key, 'ES', VERIFACTU('B12345674'))
      const created = await createTransaction(h.app, key, sale(location.id))
      assert.equal(created.statusCode, 201, created.body)
      const t = created.json()
      assert.equal(t.status, 'success', JSON.stringify(t))
      const record = t.response_payload.record
      assert.match(t.fiscal_id, /^FB[0-9A-F]{8}T-000001$/)
      assert.equal(record.invoice_number, t.fiscal_id)
      assert.equal(record.invoice_type, 'F2')
      assert.equal(record.total, '8.00')
      assert.match(record.huella, /^[0-9A-F]{64}$/)
      assert.equal(
        record.qr_url,
        `https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=B12345674&numserie=${encodeURIComponent(t.fiscal_id)}&fecha=09-03-2026&importe=8.00`,
      )
      assert.equal(t.response_payload.authority.state, 'Correcto')
      // A customer with a NIF makes a full invoice (F1).
      const full = (
        await createTransaction(
          h.app,
          key,
          sale(location.id, { customer_context: { nif: 'A39200019', name: 'Cliente SA' } }),
        )
      ).json()
      assert.equal(full.status, 'success')
      assert.equal(full.response_payload.record.invoice_type, 'F1')
      const cancel = await h.app.inject({
        method: 'POST',
        url: `/v1/transactions/${t.id}/cancel`,
        headers: bearer(key),
        payload: { reason: 'wrong table' },
      })
      assert.equal(cancel.statusCode, 201, cancel.body)
      const c = cancel.json()
      assert.equal(c.status, 'success', JSON.stringify(c))
      assert.equal(c.response_payload.record.record_kind, 'anulacion')
      assert.equal(c.response_payload.record.previous_hash, full.response_payload.record.huella)
      const state = await simState(sim)
      const ours = state.aeat.invoices.filter((i: any) => i.issuerNif === 'B12345674')
      assert.equal(ours.find((i: any) => i.seriesNumber === t.fiscal_id).state, 'Anulada')
      assert.equal(ours.find((i: any) => i.seriesNumber === full.fiscal_id).state, 'Correcta')
    })

    test('a sale whose items and totals disagree is refused with 400 and nothing is stored', async () => {
      const { key } = await newAccount(h.app)
      const location = await newLocation(h.app, key, 'ES', VERIFACTU('B12345674'))
      const bad = await createTransaction(
        h.app,
        key,
        sale(location.id, { pretax_amount: 7.61, tax_amount: 1.39, total_amount: 9.0 }),
      )
      assert.equal(bad.statusCode, 400, bad.body)
      assert.equal(bad.json().details.field, 'items')
      assert.equal((await allTransactions(h.app, key)).length, 0)
    })

    test('TicketBAI: Gipuzkoa and Araba one by one, Bizkaia through LROE; signed, chained, identifier and QR', async () => {
      const { key } = await newAccount(h.app)
      for (const territory of ['gipuzkoa', 'araba', 'bizkaia']) {
        const location = await newLocation(h.app, key, 'ES', TICKETBAI(territory, 'B87654329'))
        const ids: string[] = []
        for (let i = 0; i < 3; i++) {
          const r = await createTransaction(
            h.app,
            key,
            sale(location.id, { timestamp: `2026-03-09T14:3${i}:00Z` }),
          )
          assert.equal(r.statusCode, 201, r.body)
          ids.push(r.json().id)
        }
        const settled = await Promise.all(
          ids.map((id) =>
            eventually(
              () => getTransaction(h.app, key, id),
              (t) => t.status === 'success',
              `${territory} ${id}`,
            ),
          ),
        )
        for (const t of settled) {
          assert.match(t.fiscal_id, /^TBAI-B87654329-090326-.{13}-\d{3}$/)
          assert.equal(t.response_payload.record.territory, territory)
          assert.ok(
            t.response_payload.record.qr_url.includes(`id=${encodeURIComponent(t.fiscal_id)}`),
            t.response_payload.record.qr_url,
          )
        }
        const { report, count } = verifyTicketBaiChain(settled)
        assert.deepEqual(report.problems, [])
        assert.equal(count, 3)
        const cancel = await h.app.inject({
          method: 'POST',
          url: `/v1/transactions/${ids[0]}/cancel`,
          headers: bearer(key),
          payload: {},
        })
        assert.equal(cancel.statusCode, 201, cancel.body)
        const c = await eventually(
          () => getTransaction(h.app, key, cancel.json().id),
          (t) => ['success', 'failed_permanent'].includes(t.status),
          'cancellation',
        )
        assert.equal(c.status, 'success', JSON.stringify(c))
      }
      const state = await simState(sim)
      assert.equal(state.ticketbai.invoices.filter((i: any) => i.issuerNif === 'B87654329').length, 9)
      assert.equal(
        state.ticketbai.invoices.filter((i: any) => i.issuerNif === 'B87654329' && i.cancelled).length,
        3,
      )
    })

    test('fiscalbox export verifactu writes AEAT XML in chain order: valid against the XSD, accepted by verify, a tampered copy refused', async () => {
      const { key } = await newAccount(h.app)
      const location = await newLocation(h.app, key, 'ES', VERIFACTU('B11111119'))
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push((await createTransaction(h.app, key, sale(location.id))).json().id)
      await h.app.inject({
        method: 'POST',
        url: `/v1/transactions/${ids[1]}/cancel`,
        headers: bearer(key),
        payload: {},
      })
      const dir = mkdtempSync(join(tmpdir(), 'es-export-'))
      const out = join(dir, 'verifactu.xml')
      const env = cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })
      const exported = await runCli(
        ['export', 'verifactu', '--location', location.id, '--environment', 'test', '--out', out],
        env,
      )
      assert.equal(exported.code, 0, exported.stderr)
      assert.match(exported.stdout, /wrote 6 records/)
      const xml = readFileSync(out, 'utf8')
      const valid = xmllint(xml, 'SuministroLR.xsd')
      assert.ok(valid.ok, valid.output)
      for (const args of [
        ['verify', out],
        ['verify-es', 'verifactu', out],
      ]) {
        const ok = await runCli(args, env)
        assert.equal(ok.code, 0, ok.stdout + ok.stderr)
        assert.match(ok.stdout, /OK: 6 records in 1 chain/)
      }
      const tampered = join(dir, 'tampered.xml')
      writeFileSync(tampered, xml.replace('<sf:ImporteTotal>8.00<', '<sf:ImporteTotal>9.00<'))
      assert.notEqual(readFileSync(tampered, 'utf8'), xml)
      const refused = await runCli(['verify', tampered], env)
      assert.equal(refused.code, 1, refused.stdout)
      assert.match(refused.stdout, /FAILED/)
      const wrongLocation = await runCli(
        ['export', 'verifactu', '--location', (await newLocation(h.app, key)).id, '--out', out],
        env,
      )
      assert.notEqual(wrongLocation.code, 0)
      assert.match(wrongLocation.stderr, /not a Spanish VERI\*FACTU location/)
    })
  })

  void describe(`Spain under faults: errors, lost answers, hung requests, an outage (${engine})`, () => {
    let h: Harness
    let sim: Sim
    before(async () => {
      const credentials = await sandboxSigningCredentials()
      sim = await startSimulator({
        faults: { errorRate: 0.3, timeoutRate: 0.1, dropRate: 0.05, holdMs: 2_000, seed: 7 },
      })
      h = await startHarness(engine, settings(sim, credentials))
      h.runtime.v1.start()
    })
    after(async () => {
      await h.close()
      await sim.close()
    })

    test('every transaction ends success or failed_permanent, none lost, none registered twice, chains verified', async () => {
      const { key } = await newAccount(h.app)
      const verifactu = await newLocation(h.app, key, 'ES', VERIFACTU('B22222228'))
      const gipuzkoa = await newLocation(h.app, key, 'ES', TICKETBAI('gipuzkoa', 'B33333337'))
      const bizkaia = await newLocation(h.app, key, 'ES', TICKETBAI('bizkaia', 'B44444446'))
      const plan = [
        ...Array.from({ length: 40 }, () => verifactu.id),
        ...Array.from({ length: 12 }, () => gipuzkoa.id),
        ...Array.from({ length: 12 }, () => bizkaia.id),
      ]
      const created: string[] = []
      for (const [i, locationId] of plan.entries()) {
        // An outage of 1.5 s a third of the way through.
        if (i === 20)
          await fetch(`${sim.url}/_sim/outage`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ seconds: 1.5 }),
          })
        const r = await createTransaction(h.app, key, sale(locationId), {
          'x-fiscalization-timeout': '0.2',
        })
        assert.equal(r.statusCode, 201, r.body)
        created.push(r.json().id)
      }
      const settled = await eventually(
        () => allTransactions(h.app, key),
        (all) => all.every((t) => ['success', 'failed_permanent'].includes(t.status)),
        'every transaction to settle',
        180_000,
      )
      assert.equal(settled.length, plan.length, 'none lost')
      assert.deepEqual(new Set(settled.map((t) => t.id)), new Set(created))
      const success = settled.filter((t) => t.status === 'success')
      const state = await simState(sim)
      assert.equal(state.aeat.duplicates, 0, 'no VERI*FACTU record sent again after it was registered')
      assert.equal(state.ticketbai.duplicates, 0, 'no TicketBAI invoice sent again after it was received')
      // Exactly the successful transactions are registered, each once.
      const registered = new Set([
        ...state.aeat.invoices
          .filter((i: any) => i.issuerNif === 'B22222228')
          .map((i: any) => i.seriesNumber),
        ...state.ticketbai.invoices
          .filter((i: any) => ['B33333337', 'B44444446'].includes(i.issuerNif))
          .map((i: any) => i.identifier),
      ])
      assert.deepEqual(registered, new Set(success.map((t) => t.fiscal_id)))
      // Chains, checked by the independent verifiers.
      const dir = mkdtempSync(join(tmpdir(), 'es-faults-'))
      const { exportVerifactu } = await import('../../src/cli/export-verifactu.ts')
      const { files } = await exportVerifactu(h.runtime, verifactu.id, 'test', join(dir, 'v.xml'))
      const verifier = new VerifactuVerifier()
      for (const file of files) verifier.document(readFileSync(file, 'utf8'), file)
      const report = verifier.finish()
      assert.deepEqual(report.problems, [])
      assert.equal(report.records, 40)
      for (const location of [gipuzkoa, bizkaia]) {
        const { report: tbai, count } = verifyTicketBaiChain(
          settled.filter((t) => t.location_id === location.id),
        )
        assert.deepEqual(tbai.problems, [])
        assert.equal(count, 12)
      }
      // The faults were real: attempts were repeated.
      let attempts = 0
      let jobs = 0
      for (let offset = 0; ; offset += 100) {
        const page = await h.app.inject({
          method: 'GET',
          url: `/v1/retry-queue?kind=es-pos-submit&limit=100&offset=${offset}`,
          headers: bearer(key),
        })
        assert.equal(page.statusCode, 200, page.body)
        const data = page.json().data as Array<{ attempts: number }>
        jobs += data.length
        attempts += data.reduce((sum, j) => sum + j.attempts, 0)
        if (data.length < 100) break
      }
      assert.equal(jobs, plan.length)
      assert.ok(attempts > jobs * 1.2, `retries happened (${attempts} attempts for ${jobs} jobs)`)
      process.stdout.write(
        `# ${engine}: ${success.length} success, ${settled.length - success.length} failed_permanent; ${attempts} attempts; AEAT submissions ${state.aeat.submissions}, TicketBAI uploads ${state.ticketbai.uploads}\n`,
      )
    })
  })
}

void test('serve: without FISCALBOX_ES_SIMULATOR_URL the simulator runs in-process for test records', async () => {
  const served = await spain.serve?.({
    FISCALBOX_ES_SIMULATOR: 'in-process',
    FISCALBOX_ES_TIMEOUT_MS: 5_000,
    FISCALBOX_ES_LROE_AT: '02:00',
  })
  try {
    const url = served?.settings?.es?.simulatorUrl ?? ''
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
    const health = await fetch(`${url}/_sim/health`)
    assert.equal(health.status, 200)
    assert.deepEqual(served?.banner, [`Spain, test records (fsk_test_ keys) go to: ${url}`])
  } finally {
    await served?.close?.()
  }
  const off = await spain.serve?.({
    FISCALBOX_ES_SIMULATOR: 'off',
    FISCALBOX_ES_TIMEOUT_MS: 5_000,
    FISCALBOX_ES_LROE_AT: 'immediate',
  })
  assert.equal(off?.settings?.es?.simulatorUrl, undefined)
  await off?.close?.()
})
