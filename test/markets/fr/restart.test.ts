import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { buildApp } from '../../../src/api/app.ts'
import { openRuntime } from '../../../src/runtime.ts'
import { engines, freshPostgresDatabase } from '../../helpers/engines.ts'
import { FR_CASE, FrPos, frReceipt, joseKey, jwsOf, verifiedPayload, verifyChains } from './support.ts'

for (const engine of await engines()) {
  describe(`French market across a restart on ${engine}`, () => {
    test('chains, counters and running totals go on where the previous process left them', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fr-restart-'))
      const pgDb = engine === 'postgres' ? await freshPostgresDatabase() : undefined
      const config = {
        DATABASE_URL: pgDb ? pgDb.url : `sqlite:${join(dataDir, 'fiscalbox.db')}`,
        FISCALBOX_DATA_DIR: dataDir,
        PG_POOL_SIZE: 5,
      }
      const open = async () => {
        const runtime = await openRuntime(config)
        const app = await buildApp(runtime, { bodyLimit: 1 << 20, logger: false })
        await app.ready()
        return { runtime, app, close: async () => (await app.close(), await runtime.close()) }
      }
      try {
        const first = await open()
        const box = await first.runtime.cashboxes.create('FR')
        const before = new FrPos(first.app, box)
        const signed = [await before.signOk(frReceipt(FR_CASE.start))]
        signed.push(await before.signOk(frReceipt(FR_CASE.pos, [['10.00', 20]])))
        signed.push(await before.signOk(frReceipt(FR_CASE.pos, [['2.10', 2.1]])))
        await first.close()

        const second = await open()
        const after = new FrPos(second.app, box)
        signed.push(await after.signOk(frReceipt(FR_CASE.pos, [['7.00', 10]])))
        signed.push(await after.signOk(frReceipt(FR_CASE.daily)))
        await second.close()

        assert.deepEqual(
          signed.map((r) => r.ftReceiptIdentification),
          ['ft1#G1', 'ft2#T1', 'ft3#T2', 'ft4#T3', 'ft5#G2'],
        )
        const key = await joseKey(box.publicKey)
        await verifyChains(signed.map(jwsOf), key)
        const closing = await verifiedPayload(jwsOf(signed[4]), key)
        assert.equal(closing.totals.day.total, '19.10', 'the day counts the receipts of both processes')
        assert.equal(closing.totals.day.documents, 3)
      } finally {
        await pgDb?.drop()
        rmSync(dataDir, { recursive: true, force: true })
      }
    })
  })
}
