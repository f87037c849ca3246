import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { PaymentSimulator } from '../../src/payments/simulator.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { pay, payment, payStatus, reversal } from './pay-support.ts'
import { assertProblem, hex, code, receipt, startedPos, specialReceipt, RECEIPT_CASE } from './support.ts'

/** The pay item flags of the reference: void 0x1_0000, refund 0x2_0000. */
const PAY_VOID = 0x1_0000n
const PAY_REFUND = 0x2_0000n

for (const engine of await engines()) {
  describe(`/v2/pay (${engine})`, () => {
    let harness: Harness
    let simulator: PaymentSimulator
    before(async () => {
      harness = await startHarness(engine)
      simulator = harness.runtime.paymentSimulator as PaymentSimulator
    })
    after(async () => {
      await harness?.close()
    })

    const charges = () => simulator.ledger().length

    test('a payment answers ftPayItems, and a retry replays them without a second charge', async () => {
      const pos = await startedPos(harness)
      const operationId = randomUUID()
      const before = charges()
      const first = await pay(pos, payment('12.50'), { operationId })
      assert.equal(first.status, 200, first.payload)
      assert.equal(first.headers['x-payment-state'], 'succeeded')
      const body = first.json()
      assert.equal(body.Protocol, 'simulator')
      assert.equal(body.ftQueueID, pos.queueId)
      assert.equal(body.ftPayItems.length, 1)
      const [item] = body.ftPayItems
      assert.equal(item.Amount, 12.5)
      assert.equal(item.Description, 'Card')
      // The request sent no case code: a JSON number of exact digits, as fiskaltrust's own client reads it.
      assert.equal(item.ftPayItemCase, String(code('EU', 0x0002n)), 'non-cash of the cash box country')
      assert.match(first.payload, new RegExp(`"ftPayItemCase":${code('EU', 0x0002n)},`))
      assert.equal(item.ftPayItemCaseData.Provider.Protocol, 'simulator')
      assert.equal(item.ftPayItemCaseData.Provider.Action, 'payment')
      assert.match(item.ftPayItemCaseData.Provider.ProtocolResponse.TransactionId, /^SIM-/)
      for (let i = 0; i < 3; i++) {
        const again = await pay(pos, payment('12.50'), { operationId })
        assert.equal(again.status, 200)
        assert.equal(again.payload, first.payload, 'a replay is byte for byte the first answer')
      }
      const polled = await payStatus(pos, operationId)
      assert.equal(polled.payload, first.payload)
      assert.equal(charges(), before + 1, 'the terminal saw one transaction')
    })

    test('the ftPayItems go unchanged into /v2/sign as cbPayItems', async () => {
      const pos = await startedPos(harness)
      const paid = (await pay(pos, payment(7.3))).json()
      const body = { ...receipt({ charges: [{ amount: 7.3, vat: 10 }] }), cbPayItems: paid.ftPayItems }
      const signed = await pos.signOk(body)
      assert.equal(signed.response.ftState, hex(code('EU', 0n)))
      const items = await pos.journal('QueueItem')
      const stored = items.find((i) => i.ftQueueItemId === signed.response.ftQueueItemID)
      assert.deepEqual(stored.request.cbPayItems, paid.ftPayItems, 'stored as sent')
      const closing = await pos.signOk(specialReceipt(RECEIPT_CASE.daily))
      assert.deepEqual(closing.response.ftStateData.byPayment, { '0x0002': '7.30' })
    })

    test('a declined, timed-out or aborted payment is a payment_error with the errorCode, replayed as such', async () => {
      const pos = await startedPos(harness)
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ Outcome: 'decline' }, 'CARD_DECLINED'],
        [{ Outcome: 'decline', ErrorCode: 'INSUFFICIENT_FUNDS' }, 'INSUFFICIENT_FUNDS'],
        [{ Outcome: 'timeout' }, 'TIMEOUT'],
        [{ Outcome: 'abort' }, 'CANCELLED_BY_CUSTOMER'],
      ]
      const states: Record<string, string> = {
        CARD_DECLINED: 'declined',
        INSUFFICIENT_FUNDS: 'declined',
        TIMEOUT: 'timed_out',
        CANCELLED_BY_CUSTOMER: 'cancelled',
      }
      for (const [simulate, errorCode] of cases) {
        const operationId = randomUUID()
        const reply = await pay(pos, payment(5, { simulate }), {
          operationId,
          headers: { 'x-terminal-id': 'T-7' },
        })
        const problem = assertProblem(reply, 402)
        assert.equal(problem.error, 'payment_error')
        assert.deepEqual(problem.details, { protocol: 'simulator', errorCode, terminalId: 'T-7' })
        const again = await pay(pos, payment(5, { simulate }), { operationId })
        assert.equal(again.status, 402)
        assert.equal(again.payload, reply.payload)
        const polled = await payStatus(pos, operationId)
        assert.equal(polled.status, 402)
        assert.equal(polled.headers['x-payment-state'], states[errorCode])
      }
    })

    test('an offline terminal gives device_not_reachable; the same id later pays once', async () => {
      const pos = await startedPos(harness)
      const operationId = randomUUID()
      const before = charges()
      simulator.setOffline(true)
      try {
        const reply = await pay(pos, payment(9), { operationId })
        const problem = assertProblem(reply, 502)
        assert.equal(problem.error, 'device_not_reachable')
        assert.equal(problem.details.protocol, 'simulator')
        const polled = await payStatus(pos, operationId)
        assert.equal(polled.status, 202, 'a poll answers at once: still requested')
        assert.equal(polled.json().State, 'requested')
        assertProblem(await pay(pos, payment(9), { operationId }), 502)
        // use_auto only picks a reachable provider: nothing is stored at all.
        const auto = randomUUID()
        assertProblem(await pay(pos, payment(9, { protocol: 'use_auto' }), { operationId: auto }), 502)
        assertProblem(await payStatus(pos, auto), 404)
      } finally {
        simulator.setOffline(false)
      }
      assert.equal(charges(), before, 'nothing reached the terminal')
      const retry = await pay(pos, payment(9), { operationId })
      assert.equal(retry.status, 200, retry.payload)
      assert.equal((await pay(pos, payment(9), { operationId })).payload, retry.payload)
      assert.equal(charges(), before + 1)
    })

    test('use_first and use_auto resolve to the simulator; Protocol answers what was asked, the provider says which ran', async () => {
      const pos = await startedPos(harness)
      for (const protocol of ['use_first', 'use_auto', undefined]) {
        const body = payment(1, { protocol: protocol as string })
        if (protocol === undefined) delete body.Protocol
        const reply = await pay(pos, body)
        assert.equal(reply.status, 200, reply.payload)
        assert.equal(reply.json().Protocol, protocol ?? 'use_auto')
        assert.equal(reply.json().ftPayItems[0].ftPayItemCaseData.Provider.Protocol, 'simulator')
      }
    })

    test('a payment still running after x-operation-lifetime answers 202 with its state, then its outcome', async () => {
      const pos = await startedPos(harness)
      const operationId = randomUUID()
      const before = charges()
      const release = simulator.hold()
      let released = false
      try {
        const first = await pay(pos, payment(20), { operationId, lifetimeMs: 1 })
        assert.equal(first.status, 202, first.payload)
        assert.equal(first.headers['retry-after'], '1')
        const pending = first.json()
        assert.equal(pending.State, 'in_progress')
        assert.deepEqual(pending.ftPayItems, [])
        const retry = await pay(pos, payment(20), { operationId, lifetimeMs: 1 })
        assert.equal(retry.status, 202)
        assert.equal((await payStatus(pos, operationId)).status, 202)
        assertProblem(await pay(pos, payment(21), { operationId, lifetimeMs: 1 }), 409)
        const waiting = pay(pos, payment(20), { operationId, lifetimeMs: 60_000 })
        release()
        released = true
        const done = await waiting
        assert.equal(done.status, 200, done.payload)
        assert.equal((await pay(pos, payment(20), { operationId, lifetimeMs: 1 })).payload, done.payload)
      } finally {
        if (!released) release()
      }
      assert.equal(charges(), before + 1, 'one transaction for the whole operation')
    })

    test('cancel reverses a whole payment once; it then is cancelled', async () => {
      const pos = await startedPos(harness)
      const operationId = randomUUID()
      const paidReply = await pay(pos, payment(10), { operationId })
      const paid = paidReply.json()
      assertProblem(await pay(pos, reversal('cancel', paid, -4)), 400, 'cbPayItem.Amount')
      const cancelled = await pay(pos, reversal('cancel', paid, -10))
      assert.equal(cancelled.status, 200, cancelled.payload)
      const item = cancelled.json().ftPayItems[0]
      assert.equal(item.Amount, -10)
      assert.equal(BigInt(item.ftPayItemCase) & PAY_VOID, PAY_VOID, 'void flag')
      assert.equal(item.ftPayItemCaseData.Provider.Action, 'cancel')
      const original = await payStatus(pos, operationId)
      assert.equal(original.headers['x-payment-state'], 'cancelled')
      assert.equal(original.payload, paidReply.payload, 'the payment answers as it did')
      assertProblem(await pay(pos, reversal('cancel', paid, -10)), 400)
      assertProblem(await pay(pos, reversal('refund', paid, -1)), 400)
    })

    test('refunds take back at most what was paid, also when sent at once', async () => {
      const pos = await startedPos(harness)
      const operationId = randomUUID()
      const paid = (await pay(pos, payment(10), { operationId })).json()
      const partial = await pay(pos, reversal('refund', paid, -4))
      assert.equal(partial.status, 200, partial.payload)
      assert.equal(BigInt(partial.json().ftPayItems[0].ftPayItemCase) & PAY_REFUND, PAY_REFUND)
      assert.equal((await payStatus(pos, operationId)).headers['x-payment-state'], 'succeeded')
      const tooMuch = randomUUID()
      assertProblem(
        await pay(pos, reversal('refund', paid, -7), { operationId: tooMuch }),
        400,
        'cbPayItem.Amount',
      )
      assertProblem(await payStatus(pos, tooMuch), 404)
      // 6.00 are left: of five concurrent refunds of 2.00, three fit.
      const replies = await Promise.all(
        Array.from({ length: 5 }, () => pay(pos, reversal('refund', paid, -2))),
      )
      assert.equal(
        replies.filter((r) => r.status === 200).length,
        3,
        replies.map((r) => r.payload).join('\n'),
      )
      for (const r of replies.filter((r) => r.status !== 200)) assertProblem(r, 400, 'cbPayItem.Amount')
      assert.equal((await payStatus(pos, operationId)).headers['x-payment-state'], 'refunded')
    })

    test('a refund the terminal declines releases its amount', async () => {
      const pos = await startedPos(harness)
      const paid = (await pay(pos, payment(3))).json()
      const declined = reversal('refund', paid, -3) as any
      declined.cbPayItem.ftPayItemCaseData.Provider.ProtocolRequest = { Simulate: { Outcome: 'decline' } }
      assertProblem(await pay(pos, declined), 402)
      assert.equal((await pay(pos, reversal('refund', paid, -3))).status, 200)
    })

    test('bad requests get 400 naming the field, and store nothing', async () => {
      const pos = await startedPos(harness)
      const paid = (await pay(pos, payment(2))).json()
      const noTransaction = reversal('refund', paid, -1) as any
      delete noTransaction.cbPayItem.ftPayItemCaseData.Provider.ProtocolResponse
      const unknownTransaction = reversal('refund', paid, -1) as any
      unknownTransaction.cbPayItem.ftPayItemCaseData.Provider.ProtocolResponse = { TransactionId: 'SIM-NOPE' }
      const cases: Array<[unknown, number, string]> = [
        [payment(0), 400, 'cbPayItem.Amount'],
        [payment(-5), 400, 'cbPayItem.Amount'],
        [payment('1.2.3'), 400, 'cbPayItem.Amount'],
        [payment('12345678901234.56'), 400, 'cbPayItem.Amount'],
        [payment(5, { action: 'refund' }), 400, 'cbPayItem.Amount'],
        [payment(5, { action: 'steal' }), 400, 'Action'],
        [payment(5, { protocol: 'no_such_terminal' }), 400, 'Protocol'],
        [payment(5, { protocol: 'hobex_zvt' }), 400, 'Protocol'],
        [payment(5, { protocol: 'bluecode', action: 'pre_authorization' }), 400, 'Action'],
        [{ Action: 'payment', Protocol: 'simulator' }, 400, 'cbPayItem'],
        [{ ...payment(5), Currency: 'euro' }, 400, 'Currency'],
        [payment(5, { caseData: 'not an object' }), 400, 'cbPayItem.ftPayItemCaseData'],
        [noTransaction, 400, 'cbPayItem.ftPayItemCaseData.Provider.ProtocolResponse.TransactionId'],
        [unknownTransaction, 404, 'cbPayItem.ftPayItemCaseData.Provider.ProtocolResponse.TransactionId'],
      ]
      for (const [body, status, field] of cases) {
        const operationId = randomUUID()
        assertProblem(await pay(pos, body, { operationId }), status, field)
        assertProblem(await payStatus(pos, operationId), 404)
      }
      const problem = assertProblem(await pay(pos, payment(5, { protocol: 'hobex_zvt' })), 400)
      assert.match(problem.details.reason, /no adapter/)
    })

    test('the same id with another body is 409; other cash boxes and credentials are kept apart', async () => {
      const pos = await startedPos(harness)
      const other = await startedPos(harness)
      const operationId = randomUUID()
      assert.equal((await pay(pos, payment(4), { operationId })).status, 200)
      assertProblem(await pay(pos, payment(5), { operationId }), 409)
      assertProblem(await payStatus(other, operationId), 404)
      assert.equal(
        (await pay(other, payment(5), { operationId })).status,
        200,
        'another cash box, another operation',
      )
      assertProblem(await pay(pos, payment(4), { headers: { 'x-cashbox-accesstoken': 'wrong' } }), 401)
      assertProblem(await pay(pos, payment(4), { headers: { 'x-operation-id': 'not-a-uuid' } }), 400)
    })
  })
}
