import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import Fastify from 'fastify'
import { buildApp } from '../api/app.ts'
import { metricsRoute } from '../api/metrics.ts'
import type { Config } from '../config.ts'
import { DEFAULT_ACCOUNT_ID } from '../core/cashboxes.ts'
import { parseReceipt } from '../core/receipt.ts'
import { describeDatabaseUrl } from '../storage/database.ts'
import { openRuntime, type Runtime } from '../runtime.ts'
import { metaRepository } from '../storage/repositories/cashboxes.ts'
import { marketModules } from '../markets/index.ts'
import type { MarketSettings, ServedMarket } from '../markets/module.ts'
import { watchExpiry } from '../metrics/expiry-warnings.ts'
import { v1OptionsFromConfig } from '../v1-runtime.ts'

interface DemoCashbox {
  cashboxId: string
  accessToken: string
  queueId: string
}

const DEMO_FILE = 'demo-cashbox.json'

/**
 * The demo cash box: made and started on the first start of an empty database, so that the printed curl
 * works at once. Its credentials are kept (mode 0600) in the data directory to print them again later.
 */
async function ensureDemoCashbox(runtime: Runtime, dataDir: string): Promise<DemoCashbox | undefined> {
  mkdirSync(dataDir, { recursive: true })
  const file = join(dataDir, DEMO_FILE)
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoCashbox
  if ((await runtime.cashboxes.list()).length > 0) return undefined
  // Nodes starting together on one empty database: only the node whose claim is stored makes the demo.
  const claim = randomUUID()
  if ((await metaRepository(runtime.storage).putIfAbsent('demo_cashbox_claim', claim)) !== claim)
    return undefined
  const created = await runtime.cashboxes.create('EU', 'demo cash box')
  const cashbox = await runtime.cashboxes.authenticate(created.cashboxId, created.accessToken)
  const body = {
    cbReceiptReference: 'demo-start',
    cbReceiptMoment: new Date().toISOString(),
    ftReceiptCase: '0x4555200000004001',
    cbChargeItems: [],
    cbPayItems: [],
  }
  await runtime.signService.sign({
    cashbox,
    operationId: randomUUID(),
    lifetimeMs: 15_000,
    body,
    receipt: parseReceipt(body),
  })
  const demo = { cashboxId: created.cashboxId, accessToken: created.accessToken, queueId: created.queueId }
  writeFileSync(file, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 })
  return demo
}

/**
 * The first operator, made on the first start of a database without one (by the one node whose claim is
 * stored), for the local account that the demo cash box belongs to. Its password is printed only now.
 */
async function ensureFirstOperator(
  runtime: Runtime,
): Promise<{ email: string; password: string } | undefined> {
  if ((await runtime.operators.count()) > 0) return undefined
  const claim = randomUUID()
  if ((await metaRepository(runtime.storage).putIfAbsent('first_operator_claim', claim)) !== claim)
    return undefined
  const { operator, password } = await runtime.operators.create(DEFAULT_ACCOUNT_ID, FIRST_OPERATOR)
  return { email: operator.email, password }
}

const FIRST_OPERATOR = 'operator@localhost.localdomain'

export function demoCurl(baseUrl: string, demo: DemoCashbox): string {
  const body = JSON.stringify({
    cbReceiptReference: 'R-0001',
    cbReceiptMoment: '2026-01-15T10:15:00.000Z',
    ftReceiptCase: '0x4555200000000001',
    cbChargeItems: [
      {
        Quantity: 1,
        Description: 'Coffee',
        Amount: 3.5,
        VATRate: 20,
        ftChargeItemCase: '0x4555200000000013',
      },
    ],
    cbPayItems: [{ Description: 'Cash', Amount: 3.5, ftPayItemCase: '0x4555200000000001' }],
  })
  return [
    `curl -s -X POST ${baseUrl}/v2/sign \\`,
    `  -H 'content-type: application/json' \\`,
    `  -H 'x-cashbox-id: ${demo.cashboxId}' \\`,
    `  -H 'x-cashbox-accesstoken: ${demo.accessToken}' \\`,
    `  -H "x-operation-id: $(node -e 'console.log(crypto.randomUUID())')" \\`,
    `  -d '${body}'`,
  ].join('\n')
}

export async function serve(config: Config): Promise<void> {
  const served: ServedMarket[] = []
  for (const module of marketModules) if (module.serve) served.push(await module.serve(config))
  const runtime = await openRuntime(config, {
    v1: v1OptionsFromConfig(config),
    ...served.reduce<MarketSettings>((all, market) => ({ ...all, ...market.settings }), {}),
  })
  if (config.JOBS_WORKERS) runtime.v1.start()
  const demo = await ensureDemoCashbox(runtime, config.FISCALBOX_DATA_DIR)
  const firstOperator = await ensureFirstOperator(runtime)
  // Known once the server listens (PORT may be 0): links made before that cannot be asked for.
  let listening = `http://127.0.0.1:${config.PORT}`
  const publicUrl = config.PUBLIC_URL?.replace(/\/+$/, '')
  const app = await buildApp(runtime, {
    bodyLimit: config.BODY_LIMIT,
    publicUrl: () => publicUrl ?? listening,
    logger: { level: config.LOG_LEVEL },
    authFailures: { burst: config.AUTH_FAILURE_BURST, perMinute: config.AUTH_FAILURES_PER_MINUTE },
    dashboard: {
      exportsDir: config.DASHBOARD_EXPORTS_DIR ?? join(config.FISCALBOX_DATA_DIR, 'exports'),
      secureCookies: config.DASHBOARD_SECURE_COOKIES,
    },
    // On a port of its own (METRICS_PORT), /metrics is not on the main one.
    ...(config.METRICS_TOKEN && config.METRICS_PORT === undefined
      ? { metricsToken: config.METRICS_TOKEN }
      : {}),
  })
  runtime.metrics.includeProcessMetrics()
  const metricsApp = config.METRICS_PORT === undefined ? undefined : Fastify({ logger: false })
  await metricsApp?.register(metricsRoute(runtime.metrics, config.METRICS_TOKEN))
  const expiry = watchExpiry(runtime.credentials, app.log)
  const shutdown = async (signal: string) => {
    app.log.info({ signal }, 'shutting down: finishing in-flight requests')
    // A keep-alive connection whose response finishes during the drain would otherwise stay open, and the
    // process alive, for the whole keepAliveTimeout (72 s): let it close right after its response.
    app.server.keepAliveTimeout = 1
    expiry.stop()
    await metricsApp?.close()
    await app.close()
    await runtime.close()
    for (const market of served) await market.close?.()
    process.exit(0)
  }
  process.once('SIGTERM', () => void shutdown('SIGTERM'))
  process.once('SIGINT', () => void shutdown('SIGINT'))
  await app.listen({ port: config.PORT, host: config.HOST })
  const metricsAt = metricsApp
    ? await metricsApp.listen({ port: config.METRICS_PORT ?? 0, host: config.METRICS_HOST })
    : undefined
  runtime.reservationsRecovered.then(
    (queues) => {
      if (queues > 0) app.log.info({ queues }, 'recovered the reservations of receipts cut off by a stop')
    },
    (error: unknown) =>
      app.log.error({ err: error }, 'reservations not recovered: the next receipt of each queue tries again'),
  )
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.PORT
  const base = `http://127.0.0.1:${port}`
  listening = base
  const { engine, location } = describeDatabaseUrl(config.DATABASE_URL)
  const lines = [
    ``,
    `fiscalbox listening on ${base} (${engine}: ${location})`,
    `API docs: ${base}/docs   OpenAPI: ${base}/openapi.json`,
    `dashboard: ${base}/dashboard`,
    publicUrl
      ? `receipt links: ${publicUrl}/r/...`
      : `receipt links: ${base}/r/... (this machine only: set PUBLIC_URL to the address customers reach)`,
    ...served.flatMap((market) => market.banner ?? []),
    `new signing keys (queues, TSSs, AT devices): ${runtime.signingKeys.location}`,
    metricsAt
      ? `metrics: ${metricsAt}/metrics${config.METRICS_TOKEN ? ' (Authorization: Bearer METRICS_TOKEN)' : ''}`
      : config.METRICS_TOKEN
        ? `metrics: ${base}/metrics (Authorization: Bearer METRICS_TOKEN)`
        : `metrics: off (set METRICS_TOKEN or METRICS_PORT)`,
  ]
  if (demo) {
    lines.push(
      `demo cash box (country EU, generic market, started):`,
      `  cashboxId:   ${demo.cashboxId}`,
      `  accessToken: ${demo.accessToken}`,
      `  queueId:     ${demo.queueId}`,
      `sign a receipt:`,
      demoCurl(base, demo),
      ``,
    )
  }
  if (firstOperator) {
    lines.push(
      `dashboard operator (shown only now; more with \`fiscalbox operator create\`):`,
      `  e-mail:   ${firstOperator.email}`,
      `  password: ${firstOperator.password}`,
      ``,
    )
  }
  process.stdout.write(`${lines.join('\n')}\n`)
}
