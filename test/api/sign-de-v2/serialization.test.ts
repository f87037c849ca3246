import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../../src/api/app.ts'
import { openRuntime, type Runtime } from '../../../src/runtime.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { createCredentials, receipt, type SignDeClient, setUpTss, signDeClient } from './support.ts'

/** Runs start+finish pairs concurrently, each request on one of the given nodes, and returns every answer. */
async function concurrentPairs(nodes: SignDeClient[], tssId: string, clientIds: string[], pairs: number) {
  return Promise.all(
    Array.from({ length: pairs }, async (_, i) => {
      const node = nodes[i % nodes.length] as SignDeClient
      const other = nodes[(i + 1) % nodes.length] as SignDeClient
      const client_id = clientIds[i % clientIds.length] as string
      const txId = randomUUID()
      const start = await node.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=1`, {
        state: 'ACTIVE',
        client_id,
      })
      assert.equal(start.status, 200, JSON.stringify(start.body))
      const finish = await other.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=2`, {
        state: 'FINISHED',
        client_id,
        schema: receipt(`${i}.00`),
      })
      assert.equal(finish.status, 200, JSON.stringify(finish.body))
      return [start.body, finish.body]
    }),
  )
}

function assertGapless(answers: any[][], firstCounter: number, pairs: number) {
  const counters = answers.flat().map((a) => a.signature.counter as number)
  assert.deepEqual(
    [...counters].sort((a, b) => a - b),
    Array.from({ length: 2 * pairs }, (_, i) => firstCounter + i),
  )
  const numbers = answers.map(([start]) => start.number as number)
  assert.deepEqual(
    [...numbers].sort((a, b) => a - b),
    Array.from({ length: pairs }, (_, i) => i + 1),
  )
  for (const [start, finish] of answers) {
    assert.ok(finish.signature.counter > start.signature.counter)
    assert.equal(finish.number, start.number)
  }
}

for (const engine of await engines()) {
  describe(`one TSS signs one operation at a time (${engine})`, () => {
    let harness: Harness
    let api: SignDeClient
    let second: { runtime: Runtime; app: FastifyInstance } | undefined

    before(async () => {
      harness = await startHarness(engine)
      api = await signDeClient(harness.app, await createCredentials(harness))
    })
    after(async () => {
      await second?.app.close()
      await second?.runtime.close()
      await harness.close()
    })

    it('concurrent requests get gapless, unique signature counters and transaction numbers', async () => {
      const { tssId, clientIds } = await setUpTss(api, { clients: 3 })
      const first = Number((await api.call('GET', `/tss/${tssId}`)).body.signature_counter) + 1
      assertGapless(await concurrentPairs([api], tssId, clientIds, 60), first, 60)
    })

    it('property: any mix of concurrent starts, retries and finishes keeps the counter gapless', async () => {
      const { tssId, clientIds } = await setUpTss(api, { clients: 2 })
      let expectedLogs = Number((await api.call('GET', `/tss/${tssId}`)).body.signature_counter)
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ retry: fc.boolean(), finish: fc.boolean() }), { minLength: 1, maxLength: 8 }),
          async (plan) => {
            await Promise.all(
              plan.map(async ({ retry, finish }, i) => {
                const txId = randomUUID()
                const client_id = clientIds[i % 2] as string
                const body = { state: 'ACTIVE', client_id }
                const calls = [api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=1`, body)]
                if (retry) calls.push(api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=1`, body))
                const answers = await Promise.all(calls)
                for (const a of answers) assert.equal(a.status, 200)
                if (finish) {
                  const end = await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=2`, {
                    state: 'CANCELLED',
                    client_id,
                  })
                  assert.equal(end.status, 200)
                }
              }),
            )
            expectedLogs += plan.length + plan.filter((p) => p.finish).length
            const tss = (await api.call('GET', `/tss/${tssId}`)).body
            assert.equal(Number(tss.signature_counter), expectedLogs)
          },
        ),
        { numRuns: 15 },
      )
    })

    if (engine === 'postgres') {
      it('two nodes on one database: the TSS row lock orders their operations', async () => {
        const runtime = await openRuntime({
          DATABASE_URL: harness.databaseUrl,
          FISCALBOX_DATA_DIR: harness.dataDir,
          PG_POOL_SIZE: 10,
        })
        const app = await buildApp(runtime, { bodyLimit: 1024 * 1024, logger: false })
        await app.ready()
        second = { runtime, app }
        // The access token of node 1 is good on node 2: the token key is shared through the database.
        const node2 = await signDeClient(app, { api_key: 'unused', api_secret: 'unused' }).catch(
          () => undefined,
        )
        assert.equal(node2, undefined)
        const onNode2: SignDeClient = { ...api, token: api.token }
        onNode2.call = async (method, url, body, headers = {}) => {
          const response = await app.inject({
            method: method as 'GET',
            url: `/api/v2${url}`,
            headers: { authorization: `Bearer ${api.token}`, ...headers },
            ...(body === undefined ? {} : { payload: body as object }),
          })
          return {
            status: response.statusCode,
            body: response.json(),
            headers: response.headers,
            raw: response.rawPayload,
          }
        }
        const { tssId, clientIds } = await setUpTss(api, { clients: 2 })
        const first = Number((await onNode2.call('GET', `/tss/${tssId}`)).body.signature_counter) + 1
        assertGapless(await concurrentPairs([api, onNode2], tssId, clientIds, 60), first, 60)
      })
    }
  })
}
