import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { engines } from '../../helpers/engines.ts'
import { type FaultProxy, remoteTseSuite } from './remote-tse-support.ts'
import { DE_CASE, DePos, deReceipt, PAY, signatureData, stateLow, untar, VAT } from './support.ts'

/**
 * Every fault mode of the fault proxy on each call a receipt makes of its remote TSE (the start and the
 * finish of a sale's transaction, the cancellation of an explicit one), behind 50-250 ms of latency. Each
 * receipt is answered (none lost); after the zero receipt every remote transaction is closed, each receipt
 * has at most one (a receipt signed by the TSE exactly one, its own), and the remote's TAR export holds
 * one Start log per transaction number: no transaction was ever started twice.
 */
const FAILED = 0x2n
const sale = (amount: string) =>
  deReceipt(DE_CASE.pos, [{ amount, vat: VAT.normal }], [{ amount, case: PAY.cash }])
const put = (revision: number) => new RegExp(`/tx/[^/?]+\\?tx_revision=${revision}$`)

type Mode = 'error' | 'busy' | 'drop' | 'cut' | 'unread' | 'outage' | 'delay'
type Call = 'start' | 'finish' | 'cancel'

/**
 * Remote transactions a round leaves: the start receipt's, the final sale's, and the faulted receipt's
 * (a sale, or the explicit transaction that the cancel receipt ends), plus the zero receipt's when the
 * fault failed the TSE. A start refused before it reached the TSE (503, 429, outage) leaves none of its own.
 */
const EXPECTED: Record<Call, Record<Mode, number>> = {
  start: { error: 3, busy: 3, drop: 3, cut: 3, unread: 4, outage: 3, delay: 4 },
  finish: { error: 4, busy: 4, drop: 3, cut: 3, unread: 4, outage: 4, delay: 4 },
  cancel: { error: 4, busy: 4, drop: 3, cut: 3, unread: 4, outage: 4, delay: 4 },
}
/** The request of each call: the sale's start and finish are revisions 1 and 2, the cancel revision 2. */
const REVISION: Record<Call, number> = { start: 1, finish: 2, cancel: 2 }

function arm(proxy: FaultProxy, mode: Mode, revision: number) {
  const path = put(revision)
  if (mode === 'unread') {
    proxy.arm('drop', 'PUT', path)
    proxy.arm('error', 'GET', path)
  } else proxy.arm(mode, 'PUT', path)
}

for (const engine of await engines()) {
  describe(`DE remote TSE: every fault mode on start, finish and cancel (${engine})`, () => {
    const env = remoteTseSuite(engine)
    const { onRemote, transactions } = env

    /**
     * The remote's transactions over its SIGN DE API and its TAR export pulled by the node: every one
     * closed, one Start log each, and each receipt the TSE signed names its own.
     */
    const checkRemote = async (pos: DePos, tssId: string, signed: any[], expected: number) => {
      const txs = await transactions(tssId)
      assert.deepEqual(
        txs.filter((tx) => tx.state === 'ACTIVE').map((tx) => tx.number),
        [],
        'no transaction left open',
      )
      assert.equal(txs.length, expected, JSON.stringify(txs.map((tx) => [tx.number, tx.state])))
      const named = signed
        .map((r) => signatureData(r, 'TSE-Transaktion'))
        .filter((n): n is string => n !== undefined)
      assert.equal(new Set(named).size, named.length, 'no two receipts name the same transaction')
      for (const number of named)
        assert.ok(
          txs.some((tx) => String(tx.number) === number),
          `transaction ${number} is on the TSE`,
        )
      const pulled = await pos.request('POST', '/de/v1/remote-tse/exports', {})
      assert.equal(pulled.status, 200, pulled.payload)
      const tar = await pos.request('GET', `/de/v1/remote-tse/exports/${pulled.json().export_id}`)
      const starts = [...(await untar(tar.raw)).keys()]
        .map((name) => /_Log-Tra_No-(\d+)_Start_/.exec(name)?.[1])
        .filter((n): n is string => n !== undefined)
      assert.equal(starts.length, txs.length, 'one Start log per transaction')
      assert.equal(new Set(starts).size, starts.length, 'no transaction number started twice')
    }

    for (const call of ['start', 'finish', 'cancel'] as const)
      for (const mode of ['error', 'busy', 'drop', 'cut', 'unread', 'outage', 'delay'] as const)
        test(`${call}: ${mode}`, async () => {
          // A kept-back request is given up on after the cash box's timeout, which need not be long then.
          const { pos, tssId } = await onRemote(mode === 'delay' ? 1500 : undefined)
          const signed: any[] = []
          const reference = `explicit-${call}-${mode}`
          if (call === 'cancel') {
            const opened = await pos.signOk({
              ...deReceipt(DE_CASE.txStart),
              cbReceiptReference: reference,
            })
            assert.equal(stateLow(opened), 0n, JSON.stringify(opened))
          }
          arm(env.proxy, mode, REVISION[call])
          let faulted: any
          try {
            faulted = await pos.signOk(
              call === 'cancel'
                ? { ...deReceipt(DE_CASE.txFail), cbReceiptReference: reference }
                : sale('2.30'),
            )
          } finally {
            env.proxy.disarm()
            env.proxy.outage = false
            await env.proxy.release()
          }
          const answeredLater = mode === 'drop' || mode === 'cut'
          assert.equal(stateLow(faulted), answeredLater ? 0n : FAILED, JSON.stringify(faulted))
          signed.push(faulted)
          if (!answeredLater) {
            const zero = await pos.signOk(deReceipt(DE_CASE.zero))
            assert.equal(stateLow(zero), 0n, JSON.stringify(zero))
            signed.push(zero)
          }
          const last = await pos.signOk(sale('4.10'))
          assert.equal(stateLow(last), 0n, JSON.stringify(last))
          signed.push(last)
          const closing = await pos.signOk(deReceipt(DE_CASE.daily))
          assert.equal(stateLow(closing), 0n, JSON.stringify(closing))
          await checkRemote(pos, tssId, signed, EXPECTED[call][mode])
        })

    test('a lost start that cannot be read back is looked up by the zero receipt and cancelled there', async () => {
      const { pos, tssId } = await onRemote()
      arm(env.proxy, 'unread', 1)
      const failed = await pos.signOk(sale('3.30'))
      env.proxy.disarm()
      assert.equal(stateLow(failed), FAILED)
      const active = (await transactions(tssId)).filter((tx) => tx.state === 'ACTIVE')
      assert.equal(active.length, 1, 'the TSE did start it')
      const zero = await pos.signOk(deReceipt(DE_CASE.zero))
      assert.equal(stateLow(zero), 0n, JSON.stringify(zero))
      assert.match(signatureData(zero, 'TSE wieder in Betrieb') ?? '', /1 abgebrochene/)
      const tx = (await env.remote.get(`/tss/${tssId}/tx/${active[0]._id}`)).json()
      assert.equal(tx.state, 'CANCELLED')
      assert.equal(tx.revision, 2)
    })

    test('an update that reaches the TSE after its receipt gave up takes the revision: the next one goes on after it', async () => {
      const { pos, tssId } = await onRemote(1500)
      const reference = 'late-update'
      const order = (text: string) => ({
        ...deReceipt(DE_CASE.txUpdate, [{ amount: '1.00', vat: VAT.normal, text }], [{ amount: '1.00' }]),
        cbReceiptReference: reference,
      })
      assert.equal(
        stateLow(await pos.signOk({ ...deReceipt(DE_CASE.txStart), cbReceiptReference: reference })),
        0n,
      )
      env.proxy.arm('delay', 'PUT', put(2))
      const gaveUp = await pos.signOk(order('Kaffee'))
      assert.equal(stateLow(gaveUp), FAILED, JSON.stringify(gaveUp))
      await env.proxy.release()
      assert.equal(stateLow(await pos.signOk(deReceipt(DE_CASE.zero))), 0n)
      const next = await pos.signOk(order('Kuchen'))
      assert.equal(stateLow(next), 0n, JSON.stringify(next))
      const finished = await pos.signOk({ ...sale('2.00'), cbReceiptReference: reference })
      assert.equal(stateLow(finished), 0n, JSON.stringify(finished))
      const txs = await transactions(tssId)
      const explicit = txs.find((tx) => String(tx.number) === signatureData(finished, 'TSE-Transaktion'))
      assert.equal(explicit?.state, 'FINISHED')
      assert.equal(explicit?.revision, 4, 'start, the late update, the next update, the finish')
      assert.equal(txs.length, 3, 'start receipt, the explicit transaction, the zero receipt')
    })
  })
}
