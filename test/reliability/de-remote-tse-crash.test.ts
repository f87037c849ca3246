import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { startServer } from '../../bench/processes.ts'
import { deServicesOf } from '../../src/markets/de/services.ts'
import { openRuntime } from '../../src/runtime.ts'
import { engines } from '../helpers/engines.ts'
import { startFaultProxy, startRemoteTse } from '../markets/de/remote-tse-support.ts'
import { DE_CASE, deReceipt, PAY, signatureData, stateLow, VAT } from '../markets/de/support.ts'
import { runtimeConfig } from './support/fiscalbox.ts'
import { killedServerEnv } from './support/kill-cycles.ts'

/**
 * `fiscalbox serve` killed with SIGKILL while its remote TSE's answer is on the way: after the TSE started
 * the receipt's transaction, after it finished it, and after it cancelled an explicit one. After the restart
 * the reservation is settled by reading the transaction back: the receipt is completed with the TSE's
 * signature, and the TSE holds exactly one transaction for it. Then killed while an update is kept back on
 * the way: the reservation is released, the update arrives late, and the next update goes on after it.
 */
const until = async (done: () => boolean) => {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 20))
}

for (const engine of await engines()) {
  describe(`DE remote TSE, kill -9 between reservation and commit (${engine})`, () => {
    it('recovers the receipt from the remote transaction, never a second one', async (t) => {
      const remote = await startRemoteTse()
      const proxy = await startFaultProxy(remote.url)
      t.after(async () => {
        await proxy.close()
        await remote.close()
      })
      const env = await killedServerEnv(t, engine, 'fiscalbox-de-remote-crash')
      const runtime = await openRuntime(runtimeConfig(env))
      let box: Awaited<ReturnType<typeof runtime.cashboxes.create>>
      let tssId: string
      try {
        box = await runtime.cashboxes.create('DE', 'Kasse 1')
        tssId = (
          await deServicesOf(runtime.marketFor).remote.configure(
            { id: box.cashboxId, queueId: box.queueId },
            {
              baseUrl: proxy.url,
              apiKey: remote.apiKey,
              apiSecret: remote.apiSecret,
            },
          )
        ).tss_id
      } finally {
        await runtime.close()
      }
      const start = () =>
        startServer('fiscalbox', ['--import', 'tsx', 'src/cli/main.ts', 'serve'], env, 180_000)
      const sign = (url: string, operationId: string, body: string) =>
        fetch(`${url}/v2/sign`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-cashbox-id': box.cashboxId,
            'x-cashbox-accesstoken': box.accessToken,
            'x-operation-id': operationId,
          },
          body,
        })
      const transactions = async () => (await remote.get(`/tss/${tssId}/tx?limit=100`)).json().data as any[]

      let server = await start()
      t.after(() => server.stop())
      assert.equal(
        (await sign(server.url, randomUUID(), JSON.stringify(deReceipt(DE_CASE.start)))).status,
        200,
      )

      for (const [revision, expected] of [
        [1, 2],
        [2, 3],
      ] as const) {
        const path = new RegExp(`/tx/[^/?]+\\?tx_revision=${revision}$`)
        proxy.arm('hold', 'PUT', path)
        const operationId = randomUUID()
        const body = JSON.stringify(
          deReceipt(
            DE_CASE.pos,
            [{ amount: `${revision}.25`, vat: VAT.normal }],
            [{ amount: `${revision}.25`, case: PAY.cash }],
          ),
        )
        const lost = sign(server.url, operationId, body).catch((error: unknown) => error)
        await until(() => proxy.forwarded.some((f) => path.test(f.path) && f.status === 200))
        process.kill(server.pid, 'SIGKILL')
        assert.ok((await lost) instanceof Error, 'the killed server never answered')
        proxy.disarm()
        server = await start()
        const retried = await sign(server.url, operationId, body)
        assert.equal(retried.status, 200)
        const receipt = await retried.json()
        assert.equal(stateLow(receipt), 0n, JSON.stringify(receipt))
        const txs = await transactions()
        assert.equal(txs.length, expected, 'one remote transaction per receipt')
        const tx = txs.find((x) => String(x.number) === signatureData(receipt, 'TSE-Transaktion'))
        assert.equal(tx?.state, 'FINISHED')
        assert.equal(tx?.signature.value, signatureData(receipt, 'TSE-Signatur'))
      }

      /** Kills the server with its receipt's request to the TSE under way, restarts it; the receipt's answer. */
      const killedWhile = async (operationId: string, body: string, underWay: () => boolean) => {
        const lost = sign(server.url, operationId, body).catch((error: unknown) => error)
        await until(underWay)
        process.kill(server.pid, 'SIGKILL')
        assert.ok((await lost) instanceof Error, 'the killed server never answered')
        proxy.disarm()
        server = await start()
      }
      const explicit = (caseCode: string, reference: string, amount?: string) =>
        JSON.stringify({
          ...deReceipt(
            caseCode,
            amount ? [{ amount, vat: VAT.normal, text: `Posten ${amount}` }] : [],
            amount ? [{ amount, case: PAY.cash }] : [],
          ),
          cbReceiptReference: reference,
        })
      const signOk = async (body: string, operationId = randomUUID()) => {
        const answer = await sign(server.url, operationId, body)
        assert.equal(answer.status, 200)
        const receipt = await answer.json()
        assert.equal(stateLow(receipt), 0n, JSON.stringify(receipt))
        return receipt
      }

      // The cancellation of an explicit transaction, done by the TSE, its answer held: the retry takes it.
      await signOk(explicit(DE_CASE.txStart, 'crash-cancel'))
      proxy.arm('hold', 'PUT', /\?tx_revision=2$/)
      const cancelId = randomUUID()
      const cancelBody = explicit(DE_CASE.txFail, 'crash-cancel')
      await killedWhile(cancelId, cancelBody, () =>
        proxy.forwarded.some((f) => f.path.endsWith('tx_revision=2') && f.status === 200),
      )
      await signOk(cancelBody, cancelId)
      let txs = await transactions()
      assert.equal(txs.length, 4, 'the explicit transaction is the third receipt transaction')
      assert.deepEqual(
        txs.filter((tx) => tx.state !== 'FINISHED').map((tx) => tx.state),
        ['CANCELLED'],
      )

      // An update kept back until after the node died: the recovery finds nothing and releases the
      // reservation, then the update reaches the TSE. The POS's next, other update meets the taken revision
      // (409) and goes on after it; the finish closes the one transaction.
      await signOk(explicit(DE_CASE.txStart, 'crash-late'))
      proxy.arm('delay', 'PUT', /\?tx_revision=2$/)
      await killedWhile(
        randomUUID(),
        explicit(DE_CASE.txUpdate, 'crash-late', '1.10'),
        () => proxy.keptBack > 0,
      )
      await proxy.release()
      await signOk(explicit(DE_CASE.txUpdate, 'crash-late', '2.20'))
      const finished = await signOk(explicit(DE_CASE.pos, 'crash-late', '3.30'))
      txs = await transactions()
      assert.equal(txs.length, 5, 'one transaction for the explicit flow')
      const late = txs.find((x) => String(x.number) === signatureData(finished, 'TSE-Transaktion'))
      assert.equal(late?.state, 'FINISHED')
      assert.equal(late?.revision, 4, 'start, the late update, the next update, the finish')
      assert.deepEqual(
        txs.filter((tx) => tx.state === 'ACTIVE'),
        [],
      )
    })
  })
}
