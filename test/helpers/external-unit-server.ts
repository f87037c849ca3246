import { buildApp } from '../../src/api/app.ts'
import { countryCode } from '../../src/core/case-codes.ts'
import { loadConfig } from '../../src/config.ts'
import { openRuntime } from '../../src/runtime.ts'
import { externalUnitMarket } from './external-unit.ts'

/**
 * fiscalbox as `serve` runs it, plus one country served by an external signing unit: the cash boxes of
 * EXTERNAL_UNIT_COUNTRY (a user-assigned code, XT by default) are signed by the unit double at
 * EXTERNAL_UNIT_URL (EXTERNAL_UNIT_TIMEOUT_MS, default 10 s), every other country as usual. Prints `listening on http://127.0.0.1:PORT`.
 */
const config = loadConfig()
const unitUrl = process.env.EXTERNAL_UNIT_URL
if (!unitUrl) throw new Error('EXTERNAL_UNIT_URL: the external unit double to call is missing')
const external = countryCode(process.env.EXTERNAL_UNIT_COUNTRY ?? 'XT')
const unitMarket = externalUnitMarket(unitUrl, {
  timeoutMs: Number(process.env.EXTERNAL_UNIT_TIMEOUT_MS ?? 10_000),
})
const runtime = await openRuntime(config, {
  markets: (code, market) => (code === external ? unitMarket : market),
})
const app = await buildApp(runtime, { bodyLimit: config.BODY_LIMIT, logger: { level: config.LOG_LEVEL } })
await app.listen({ port: config.PORT, host: config.HOST })
const address = app.server.address()
const port = typeof address === 'object' && address ? address.port : config.PORT
process.stdout.write(`listening on http://127.0.0.1:${port}\n`)
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(() => runtime.close())
      .then(() => process.exit(0))
  })
}
