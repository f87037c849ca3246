import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { cliEnv, type Server, signWithDemo, startServer } from '../cli/cli-process.ts'
import { engines, freshPostgresDatabase } from '../helpers/engines.ts'
import { parsePrometheusText } from './prometheus-text.ts'

const TOKEN = 'metrics-token-0123456789abcdef'
const SALE = {
  cbReceiptMoment: '2026-01-15T10:15:00.000Z',
  ftReceiptCase: '0x4555200000000001',
  cbChargeItems: [
    { Quantity: 1, Description: 'Coffee', Amount: 3.5, VATRate: 20, ftChargeItemCase: '0x4555200000000013' },
  ],
  cbPayItems: [{ Description: 'Cash', Amount: 3.5, ftPayItemCase: '0x4555200000000001' }],
}

for (const engine of await engines()) {
  describe(`GET /metrics of fiscalbox serve, scraped and parsed (${engine})`, () => {
    let server: Server
    let drop: (() => Promise<void>) | undefined

    before(async () => {
      const dataDir = mkdtempSync(join(tmpdir(), `fiscalbox-metrics-${engine}-`))
      let url = `sqlite:${join(dataDir, 'fiscalbox.db')}`
      if (engine === 'postgres') ({ url, drop } = await freshPostgresDatabase())
      server = await startServer(
        cliEnv({
          DATABASE_URL: url,
          FISCALBOX_DATA_DIR: dataDir,
          PORT: '0',
          HOST: '127.0.0.1',
          METRICS_TOKEN: TOKEN,
        }),
      )
    })
    after(async () => {
      await server?.stop()
      await drop?.()
    })

    const scrape = async () => {
      const response = await fetch(`${server.baseUrl}/metrics`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
      assert.equal(response.status, 200)
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
      return parsePrometheusText(await response.text())
    }

    test('refuses a scrape without the token, or with another', async () => {
      for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcdef']) {
        const response = await fetch(`${server.baseUrl}/metrics`, {
          headers: authorization ? { authorization } : {},
        })
        assert.equal(response.status, 401)
        assert.equal(((await response.json()) as { error: string }).error, 'unauthorized')
      }
    })

    test('requests, receipts and commits move with real receipts', async () => {
      const demo = server.demo
      assert.ok(demo, 'the first start makes the demo cash box')
      const first = await scrape()
      assert.equal(first.types.get('fiscalbox_http_request_duration_seconds'), 'histogram')
      assert.equal(first.types.get('fiscalbox_receipts_total'), 'counter')
      const SIGNED = 5
      for (let i = 0; i < SIGNED; i++) {
        const response = await signWithDemo(server.baseUrl, demo, { ...SALE, cbReceiptReference: `M-${i}` })
        assert.equal(response.status, 200)
      }
      const refused = await fetch(`${server.baseUrl}/v2/sign`, { method: 'POST' })
      assert.equal(refused.status, 401)
      const afterwards = await scrape()
      const sign = { method: 'POST', route: '/v2/sign' }
      const count = 'fiscalbox_http_request_duration_seconds_count'
      assert.equal(
        afterwards.value(count, { ...sign, status: '200' }) - first.value(count, { ...sign, status: '200' }),
        SIGNED,
      )
      assert.equal(
        afterwards.value(count, { ...sign, status: '401' }) - first.value(count, { ...sign, status: '401' }),
        1,
      )
      const inf = { ...sign, status: '200', le: '+Inf' }
      assert.equal(
        afterwards.value('fiscalbox_http_request_duration_seconds_bucket', inf),
        afterwards.value(count, { ...sign, status: '200' }),
      )
      const signed = { country: 'EU', outcome: 'signed' }
      assert.equal(
        afterwards.value('fiscalbox_receipts_total', signed) -
          first.value('fiscalbox_receipts_total', signed),
        SIGNED,
      )
      // Each receipt is committed: the commit histograms count at least the receipts' units.
      assert.ok(
        afterwards.value('fiscalbox_db_commit_units_sum') - first.value('fiscalbox_db_commit_units_sum') >=
          SIGNED,
      )
      assert.ok(
        afterwards.value('fiscalbox_db_commit_duration_seconds_count') >
          first.value('fiscalbox_db_commit_duration_seconds_count'),
      )
      assert.ok(afterwards.value('process_cpu_seconds_total') > 0)
      if (engine === 'postgres')
        assert.equal(afterwards.value('fiscalbox_db_pool_connections', { state: 'max' }), 20)
    })
  })
}

describe('GET /metrics on a port of its own (METRICS_PORT)', () => {
  test('is served there without a token and not on the main port', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-metrics-port-'))
    const server = await startServer(
      cliEnv({
        DATABASE_URL: `sqlite:${join(dataDir, 'fiscalbox.db')}`,
        FISCALBOX_DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        METRICS_PORT: '0',
      }),
    )
    try {
      const at = /^metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)$/m.exec(server.output().stdout)?.[1]
      assert.ok(at, server.output().stdout)
      assert.equal((await fetch(`${server.baseUrl}/metrics`)).status, 404)
      const response = await fetch(at)
      assert.equal(response.status, 200)
      const metrics = parsePrometheusText(await response.text())
      assert.equal(metrics.value('fiscalbox_receipts_total', { country: 'EU', outcome: 'signed' }), 1)
    } finally {
      await server.stop()
    }
  })
})
