import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { buildApp } from '../../src/api/app.ts'
import { exportVerifactu } from '../../src/cli/export-verifactu.ts'
import { locationQueueId } from '../../src/core/v1/location-cashboxes.ts'
import { esServicesOf } from '../../src/markets/es/cashbox/index.ts'
import { sandboxSigningCredentials } from '../../src/markets/es/sandbox-signer.ts'
import { startSimulator } from '../../src/markets/es/simulator/app.ts'
import { openRuntime, type Runtime } from '../../src/runtime.ts'
import { TicketBaiVerifier } from '../../src/verify/ticketbai-verifier.ts'
import { VerifactuVerifier } from '../../src/verify/verifactu-verifier.ts'
import { cliEnv, runCli } from '../cli/cli-process.ts'
import { type EngineName, engines, freshPostgresDatabase } from '../helpers/engines.ts'
import { allTransactions, bearer, createTransaction, eventually, getTransaction, sale } from './support.ts'

// A database written by the version before the one Spanish pipeline (test/fixtures/es-upgrade/README.md:
// how it was made, with which commit) opened by this one: its migrations run, then everything goes through
// the public interfaces: /v1, the outbox draining to a fresh authority simulator, the VERI*FACTU export
// and its verifier.

const FIXTURES = join(import.meta.dirname, '../fixtures/es-upgrade')
const MASTER_KEY = 'e5f1c0de0000000000000000000000000000000000000000000000000000e5f1'
const accounts = JSON.parse(readFileSync(join(FIXTURES, 'accounts.json'), 'utf8')) as Record<
  EngineName,
  string
>

type Sim = Awaited<ReturnType<typeof startSimulator>>

/** The old version's database as a fresh copy of the fixture: its URL and how to drop it. */
async function oldDatabase(engine: EngineName, dataDir: string) {
  if (engine === 'sqlite') {
    const file = join(dataDir, 'fiscalbox.db')
    copyFileSync(join(FIXTURES, 'old-398b763.sqlite'), file)
    return { url: `sqlite:${file}`, drop: async () => {} }
  }
  const database = await freshPostgresDatabase()
  const client = new pg.Client({ connectionString: database.url })
  await client.connect()
  // pg_dump's own psql commands (\restrict) are not SQL.
  const dump = readFileSync(join(FIXTURES, 'old-398b763.postgres.sql'), 'utf8')
  await client.query(
    dump
      .split('\n')
      .filter((line) => !line.startsWith('\\'))
      .join('\n'),
  )
  await client.end()
  return database
}

async function webhookReceiver() {
  const events: Array<{ type: string; data: any }> = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (c: Buffer) => chunks.push(c))
    request.on('end', () => {
      events.push(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      response.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hooks`
  return { url, events, close: () => new Promise((resolve) => server.close(resolve)) }
}

const UNSETTLED = ['pending', 'pending_submission', 'pending_lroe', 'processing', 'failed']

for (const engine of await engines()) {
  void describe(`Spain: a database of the version before the one pipeline, upgraded (${engine})`, () => {
    let dataDir: string
    let database: { url: string; drop(): Promise<void> }
    let sim: Sim
    let runtime: Runtime
    let app: FastifyInstance
    let hooks: Awaited<ReturnType<typeof webhookReceiver>>
    const key = accounts[engine]

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-es-upgrade-'))
      database = await oldDatabase(engine, dataDir)
      // A fresh authority: it holds nothing of what the old version registered (see "the authority holds").
      sim = await startSimulator({ aeat: { waitSeconds: 0 } })
      hooks = await webhookReceiver()
      runtime = await openRuntime(
        {
          DATABASE_URL: database.url,
          FISCALBOX_DATA_DIR: dataDir,
          FISCALBOX_MASTER_KEY: MASTER_KEY,
          PG_POOL_SIZE: 10,
        },
        {
          es: {
            simulatorUrl: sim.url,
            timeoutMs: 2_000,
            testCredentials: await sandboxSigningCredentials(),
            lroeAt: 'immediate',
          },
          v1: {
            engine: { pollMs: 10, backoffBaseMs: 20, backoffMaxMs: 300, concurrency: 2, leaseMs: 10_000 },
            defaultInlineTimeoutMs: 5_000,
            rateLimit: { perMinute: 1_000_000, burst: 1_000_000 },
          },
        },
      )
      app = await buildApp(runtime, { bodyLimit: 1024 * 1024, logger: false })
      await app.ready()
    })
    after(async () => {
      await app.close()
      await runtime.close()
      await sim.close()
      await hooks.close()
      await database.drop()
      rmSync(dataDir, { recursive: true, force: true })
    })

    test('old records stay, pending ones reach the authority in chain order before new ones, chains go on', async () => {
      const locations = (
        await app.inject({ method: 'GET', url: '/v1/locations?limit=100', headers: bearer(key) })
      ).json().data as Array<{ id: string; name: string }>
      const byName = (name: string) => {
        const found = locations.find((l) => l.name === name)
        assert.ok(found, `location ${name} of the fixture`)
        return found.id
      }
      const vf = byName('Bar Ejemplo')
      const tb = byName('Taberna Ejemplo')
      const vf2 = byName('Kiosko Ejemplo')
      const empty = byName('Tienda Nueva')
      const old = await allTransactions(app, key)
      const of = (location: string) =>
        old.filter((t) => t.location_id === location).sort((a, b) => a.created_at.localeCompare(b.created_at))
      // What the old version left: settled, cancelled, waiting (the authority was down) and dead-lettered.
      assert.deepEqual(
        of(vf).map((t) => `${t.type}:${t.status}`),
        [
          'sale:success',
          'sale:cancelled',
          'sale:cancelled',
          'cancellation:success',
          'sale:pending_submission',
          'sale:pending_submission',
          'cancellation:pending',
        ],
      )
      assert.deepEqual(
        of(vf2).map((t) => t.status),
        ['success', 'failed_permanent', 'pending_submission'],
      )
      assert.deepEqual(
        of(tb).map((t) => t.status),
        ['success', 'success', 'pending_submission'],
      )

      // The authority holds what it registered before the upgrade: the old settled records, sent to the
      // fresh simulator as the old version sent them (the cash box's client, in chain order).
      const es = esServicesOf(runtime.marketFor)
      for (const location of [vf, tb, vf2]) {
        const queueId = locationQueueId(location, 'test')
        const accountId = old[0].account_id
        const config = await es.describe({ queueId, accountId })
        const authority = await es.authorityOf(queueId, config, accountId)
        const records = await es.records(queueId, { afterSeq: 0, limit: 100 })
        for (const record of records.filter((r) => r.status === 'accepted')) {
          const sent = await authority.submit([record.document.record.value])
          assert.equal(sent.kind, 'answered')
        }
      }
      const primed = (await (await fetch(`${sim.url}/_sim/state`)).json()) as any
      const primedSubmissions = primed.aeat.received.length as number

      const webhook = await app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: bearer(key),
        payload: { url: hooks.url, events: ['fiscalization.completed', 'transaction.cancelled'] },
      })
      assert.equal(webhook.statusCode, 201, webhook.body)

      // A new sale of an old location: after the pending old records of its chain, in the same attempt.
      const fresh = await createTransaction(app, key, sale(vf, { timestamp: '2026-03-10T09:00:00Z' }))
      assert.equal(fresh.statusCode, 201, fresh.body)
      const prefix = of(vf)[0].fiscal_id.replace(/\d+$/, '')
      assert.equal(fresh.json().fiscal_id, `${prefix}000006`, 'numbering goes on after the old invoices')
      // The cancellation of an old registered invoice finds it and chains after the last record.
      const first = of(vf)[0]
      const cancel = await app.inject({
        method: 'POST',
        url: `/v1/transactions/${first.id}/cancel`,
        headers: bearer(key),
        payload: { reason: 'after the upgrade' },
      })
      assert.equal(cancel.statusCode, 201, cancel.body)
      assert.equal(cancel.json().response_payload.record.invoice_number, first.fiscal_id)
      // An old location without any transaction: its first one works.
      const firstOfEmpty = await createTransaction(app, key, sale(empty))
      assert.equal(firstOfEmpty.statusCode, 201, firstOfEmpty.body)
      assert.equal(firstOfEmpty.json().status, 'success', firstOfEmpty.body)
      assert.match(firstOfEmpty.json().fiscal_id, /T-000001$/)
      const tbFresh = await createTransaction(app, key, sale(tb, { timestamp: '2026-03-10T09:05:00Z' }))
      assert.equal(tbFresh.statusCode, 201, tbFresh.body)

      // The dead-lettered old record goes again when the merchant asks, as before the upgrade.
      const dead = (
        await app.inject({ method: 'GET', url: '/v1/retry-queue?status=dead', headers: bearer(key) })
      ).json().data as Array<{ id: string; kind: string }>
      assert.deepEqual(
        dead.map((j) => j.kind),
        ['es-pos-submit'],
      )
      const retried = await app.inject({
        method: 'POST',
        url: `/v1/retry-queue/${dead[0]?.id}/retry`,
        headers: bearer(key),
      })
      assert.equal(retried.statusCode, 200, retried.body)

      runtime.v1.start()
      const settled = await eventually(
        () => allTransactions(app, key),
        (all) => all.every((t) => !UNSETTLED.includes(t.status)),
        'every transaction to settle',
        60_000,
      )
      for (const t of settled)
        assert.ok(
          ['success', 'cancelled'].includes(t.status),
          `${t.id} ${t.type} ${t.status} ${t.error_message}`,
        )
      const cancelledAfter = await getTransaction(app, key, first.id)
      assert.equal(cancelledAfter.status, 'cancelled')

      // The authority got every record once, in chain order, each linked to the one it held before.
      const state = (await (await fetch(`${sim.url}/_sim/state`)).json()) as any
      const submissions = state.aeat.received.slice(primedSubmissions) as Array<{
        records: string[]
        codes: string[]
      }>
      assert.deepEqual(
        submissions.flatMap((s) => s.codes),
        [],
        'no record refused or linked to another than the last one held',
      )
      const sent = submissions.flatMap((s) => s.records).filter((r) => r.includes(prefix))
      assert.deepEqual(sent, [
        `alta:${prefix}000004`,
        `alta:${prefix}000005`,
        `anulacion:${prefix}000003`,
        `alta:${prefix}000006`,
        `anulacion:${prefix}000001`,
      ])
      const prefix2 = of(vf2)[0].fiscal_id.replace(/\d+$/, '')
      assert.deepEqual(
        submissions.flatMap((s) => s.records).filter((r) => r.includes(prefix2)),
        [`alta:${prefix2}000002`, `alta:${prefix2}000003`],
      )
      assert.equal(state.aeat.duplicates, 0)
      assert.equal(state.ticketbai.duplicates, 0)

      // Each waiting old transaction was settled with its webhook, as before the upgrade.
      const waiting = old.filter((t) => UNSETTLED.includes(t.status) || t.status === 'failed_permanent')
      await eventually(
        async () => hooks.events.filter((e) => e.type === 'fiscalization.completed'),
        (events) => waiting.every((t) => events.some((e) => e.data.transaction.id === t.id)),
        'the webhooks of the old waiting transactions',
      )

      // The chains, whole, through the export and the independent verifiers.
      const dir = mkdtempSync(join(tmpdir(), 'es-upgrade-export-'))
      const { files, records } = await exportVerifactu(runtime, vf, 'test', join(dir, 'vf.xml'))
      assert.equal(records, 9, 'the 7 old records and the 2 new ones')
      const verifier = new VerifactuVerifier()
      for (const file of files) verifier.document(readFileSync(file, 'utf8'), file)
      assert.deepEqual(verifier.finish().problems, [])
      const cli = await runCli(
        ['verify', files[0] as string],
        cliEnv({ DATABASE_URL: database.url, FISCALBOX_DATA_DIR: dataDir, FISCALBOX_MASTER_KEY: MASTER_KEY }),
      )
      assert.equal(cli.code, 0, cli.stdout + cli.stderr)
      assert.match(cli.stdout, /OK: 9 records in 1 chain/)
      const tbai = new TicketBaiVerifier()
      const tbInvoices = settled
        .filter((t) => t.location_id === tb && t.type === 'sale')
        .sort((a, b) => a.response_payload.record.sequence - b.response_payload.record.sequence)
      for (const t of tbInvoices) tbai.document(t.response_payload.record.xml, t.fiscal_id)
      assert.deepEqual(tbai.finish().problems, [])
      assert.equal(tbInvoices.length, 4)
      assert.equal(state.ticketbai.invoices.length, 4, 'the 2 primed and the 2 sent after the upgrade')
    })
  })
}
