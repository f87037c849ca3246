import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { cliEnv, runCli } from '../../cli/cli-process.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { FR_CASE, FrPos, frReceipt, joseKey, jwsOf, verifiedPayload, verifyChains } from './support.ts'

const SIRET = '73282932000074'
/** La Poste's SIRETs pass a check of their own (digits add up to a multiple of 5), not Luhn. */
const LA_POSTE_SIRET = '35600000049837'

for (const engine of await engines()) {
  describe(`French cash box configuration on ${engine}`, () => {
    let h: Harness
    before(async () => {
      h = await startHarness(engine)
    })
    after(() => h.close())

    const request = async (
      box: { cashboxId: string; accessToken: string },
      method: 'GET' | 'PUT',
      body?: unknown,
    ) => {
      const reply = await h.app.inject({
        method,
        url: '/fr/v1/cashbox',
        headers: {
          'x-cashbox-id': box.cashboxId,
          'x-cashbox-accesstoken': box.accessToken,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      })
      return { status: reply.statusCode, json: () => reply.json(), payload: reply.payload }
    }

    test('the /fr/v1 routes are in the OpenAPI document', async () => {
      const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json()
      assert.ok(doc.paths['/fr/v1/cashbox']?.put, 'PUT /fr/v1/cashbox')
      assert.ok(doc.paths['/fr/v1/cashbox']?.get, 'GET /fr/v1/cashbox')
    })

    test('PUT checks the SIRET and the name, writes nothing on a refusal, and versions every change', async () => {
      const box = await h.runtime.cashboxes.create('FR')
      assert.equal((await request(box, 'GET')).json().error, 'market_not_configured')
      for (const [body, field] of [
        [{ siret: '73282932000075', name: 'Café' }, 'siret'],
        [{ siret: '7328293200007', name: 'Café' }, 'siret'],
        [{ siret: '35600000000048', name: 'Bureau de poste' }, 'siret'],
        [{ siret: SIRET, name: ' ' }, 'name'],
      ] as const) {
        const refused = await request(box, 'PUT', body)
        assert.equal(refused.status, 400, refused.payload)
        assert.match(refused.payload, new RegExp(`"${field}`), refused.payload)
      }
      assert.equal((await request(box, 'GET')).status, 409, 'nothing was stored')
      const first = await request(box, 'PUT', { siret: SIRET, name: 'Café du Port' })
      assert.equal(first.status, 200, first.payload)
      assert.deepEqual([first.json().siret, first.json().version], [SIRET, 1])
      assert.equal((await request(box, 'PUT', { siret: SIRET, name: 'Café du Port' })).json().version, 1)
      const post = await request(box, 'PUT', { siret: LA_POSTE_SIRET, name: 'Bureau de poste' })
      assert.equal(post.json().version, 2)
      assert.deepEqual((await request(box, 'GET')).json(), post.json())
      const austrian = await h.runtime.cashboxes.create('AT')
      assert.equal((await request(austrian, 'PUT', { siret: SIRET, name: 'x' })).status, 409)
    })

    test('entries sign the SIRET; each change is a technical event with the next receipt', async () => {
      const box = await h.runtime.cashboxes.create('FR')
      const pos = new FrPos(h.app, box)
      const key = await joseKey(box.publicKey)
      assert.equal((await request(box, 'PUT', { siret: SIRET, name: 'Café du Port' })).status, 200)
      const signed = [await pos.signOk(frReceipt(FR_CASE.start))]
      signed.push(await pos.signOk(frReceipt(FR_CASE.pos, [['2.00', 10]])))
      assert.equal((await request(box, 'PUT', { siret: SIRET, name: 'Café du Port SARL' })).status, 200)
      signed.push(await pos.signOk(frReceipt(FR_CASE.pos, [['3.00', 10]])))
      signed.push(await pos.signOk(frReceipt(FR_CASE.technicalEvent)))
      for (const response of signed) assert.equal((await verifiedPayload(jwsOf(response), key)).siret, SIRET)
      // L1 start, L2 the first configuration (with the start receipt), L3 the change (with the second sale).
      assert.match(signed[3].ftReceiptIdentification, /#L4$/)

      const dir = mkdtempSync(join(tmpdir(), 'fr-config-'))
      const file = join(dir, 'archive.jsonl')
      const period = new Date().toISOString().slice(0, 4)
      const env = cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })
      const run = await runCli(
        ['export', 'archive-fr', '--cashbox', box.cashboxId, '--period', period, '--out', file],
        env,
      )
      assert.equal(run.code, 0, run.stderr)
      const entries = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .slice(1, -1)
        .map((line) => JSON.parse(line).jws)
      await verifyChains(entries, key)
      const jet = []
      for (const jws of entries) {
        const payload = await verifiedPayload(jws, key)
        if (payload.chain === 'L') jet.push([payload.event, payload.name, payload.version])
      }
      assert.deepEqual(jet, [
        ['start', undefined, undefined],
        ['configuration', 'Café du Port', 1],
        ['configuration', 'Café du Port SARL', 2],
        ['technical', undefined, undefined],
      ])
    })

    test('fiscalbox fr configure and fr show', async () => {
      const box = await h.runtime.cashboxes.create('FR')
      const env = cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })
      const bad = await runCli(
        ['fr', 'configure', '--cashbox', box.cashboxId, '--siret', '123', '--name', 'x'],
        env,
      )
      assert.notEqual(bad.code, 0)
      assert.match(bad.stderr, /siret: must be the 14 digits/)
      const good = await runCli(
        [
          'fr',
          'configure',
          '--cashbox',
          box.cashboxId,
          '--siret',
          SIRET,
          '--name',
          `Café ${randomUUID().slice(0, 4)}`,
          '--json',
        ],
        env,
      )
      assert.equal(good.code, 0, good.stderr)
      assert.equal(JSON.parse(good.stdout).version, 1)
      const shown = await runCli(['fr', 'show', '--cashbox', box.cashboxId, '--json'], env)
      assert.deepEqual(JSON.parse(shown.stdout), JSON.parse(good.stdout))
    })
  })
}
