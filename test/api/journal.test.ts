import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { chainHash } from '../../src/core/journal-chain.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import {
  assertProblem,
  JOURNAL_TYPES,
  type JournalType,
  newPos,
  type Pos,
  RECEIPT_CASE,
  receipt,
  sha256,
  specialReceipt,
  startedPos,
} from './support.ts'

const GENESIS = '0'.repeat(64)
const TICKS_AT_UNIX_EPOCH = 621_355_968_000_000_000n
const ticks = (date: Date): bigint => BigInt(date.getTime()) * 10_000n + TICKS_AT_UNIX_EPOCH

const CURSOR: Record<JournalType, string> = {
  QueueItem: 'ftQueueRow',
  ReceiptJournal: 'ftReceiptNumber',
  ActionJournal: 'Number',
}

/**
 * A queue with every kind of entry: a rejected receipt before the start (queue item and action only), the
 * start, six sales, a zero receipt and a daily closing. Returns the exact answers of /v2/sign in order.
 */
async function busyQueue(harness: Harness): Promise<{ pos: Pos; payloads: string[]; references: string[] }> {
  const pos = await newPos(harness)
  const payloads: string[] = []
  const references: string[] = []
  const bodies = [
    receipt(),
    specialReceipt(RECEIPT_CASE.start),
    ...Array.from({ length: 6 }, (_, i) => receipt({ charges: [{ amount: `${i + 1}.10`, vat: 20 }] })),
    specialReceipt(RECEIPT_CASE.zero),
    specialReceipt(RECEIPT_CASE.daily),
  ]
  for (const body of bodies) {
    payloads.push((await pos.signOk(body)).payload)
    references.push(body.cbReceiptReference as string)
  }
  return { pos, payloads, references }
}

for (const engine of await engines()) {
  describe(`journals (${engine})`, () => {
    let harness: Harness
    let pos: Pos
    let payloads: string[]
    let references: string[]
    before(async () => {
      harness = await startHarness(engine)
      ;({ pos, payloads, references } = await busyQueue(harness))
    })
    after(async () => {
      await harness?.close()
    })

    test('each journal holds what the queue did', async () => {
      const items = await pos.journal('QueueItem')
      const receipts = await pos.journal('ReceiptJournal')
      const actions = await pos.journal('ActionJournal')
      assert.equal(items.length, 10, 'every request is a queue item')
      assert.equal(receipts.length, 9, 'the rejected receipt has no receipt journal entry')
      assert.deepEqual(
        items.map((i) => i.ftQueueRow),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      )
      assert.deepEqual(
        receipts.map((r) => r.ftReceiptNumber),
        [1, 2, 3, 4, 5, 6, 7, 8, 9],
      )
      assert.deepEqual(
        items.map((i) => i.cbReceiptReference),
        references,
      )
      assert.deepEqual(
        actions.map((a) => a.Type),
        ['receipt-rejected', 'queue-started', 'zero-receipt', 'daily-closing'],
      )
      assert.deepEqual(
        actions.map((a) => a.Number),
        [1, 2, 3, 4],
      )
      for (const [i, item] of items.entries()) {
        assert.equal(item.ftQueueId, pos.queueId)
        assert.deepEqual(item.response, JSON.parse(payloads[i] as string))
        assert.equal(
          item.responseHash,
          sha256(payloads[i] as string),
          'responseHash is over the answered bytes',
        )
      }
    })

    test('the receipt journal is a hash chain over the answered receipts', async () => {
      const items = await pos.journal('QueueItem')
      const receipts = await pos.journal('ReceiptJournal')
      let previous = GENESIS
      for (const entry of receipts) {
        assert.equal(entry.PreviousHash, previous, `entry ${entry.ftReceiptNumber} chains to the one before`)
        assert.match(entry.ftReceiptHash, /^[0-9a-f]{64}$/)
        const item = items.find((i) => i.ftQueueItemId === entry.ftQueueItemId)
        assert.ok(item, 'every receipt journal entry has its queue item')
        assert.equal(entry.ftQueueRow, item.ftQueueRow)
        assert.equal(entry.RequestHash, item.requestHash)
        assert.equal(entry.ResponseHash, item.responseHash)
        assert.equal(entry.ftReceiptCase, item.ftReceiptCase)
        assert.equal(entry.ftReceiptMoment, item.response.ftReceiptMoment)
        const recomputed = chainHash(entry.PreviousHash, {
          queueId: entry.ftQueueId,
          number: entry.ftReceiptNumber,
          queueRow: entry.ftQueueRow,
          moment: entry.ftReceiptMoment,
          receiptCase: entry.ftReceiptCase,
          total: entry.ftReceiptTotal,
          requestHash: entry.RequestHash,
          responseHash: entry.ResponseHash,
        })
        assert.equal(
          entry.ftReceiptHash,
          recomputed,
          `hash of entry ${entry.ftReceiptNumber} covers its fields`,
        )
        previous = entry.ftReceiptHash
      }
      assert.deepEqual(
        receipts.slice(1, 7).map((r) => r.ftReceiptTotal),
        ['1.10', '2.10', '3.10', '4.10', '5.10', '6.10'],
      )
    })

    for (const type of JOURNAL_TYPES) {
      test(`GET ${type} pages with limit, after and x-next-after`, async () => {
        const all = await pos.journal(type)
        assert.ok(all.length >= 4)
        for (const limit of [1, 2, 3, all.length]) {
          const collected: unknown[] = []
          let after: string | undefined
          let pages = 0
          for (;;) {
            const reply = await pos.get(
              pos.journalUrl(type, `?limit=${limit}${after === undefined ? '' : `&after=${after}`}`),
            )
            assert.equal(reply.status, 200, reply.payload)
            assert.match(String(reply.headers['content-type']), /^application\/json/)
            const page = reply.json() as Array<Record<string, unknown>>
            assert.ok(page.length <= limit)
            collected.push(...page)
            pages += 1
            const next = reply.headers['x-next-after']
            if (page.length < limit) {
              assert.equal(next, undefined, 'a short page is the last one')
              break
            }
            const last = page.at(-1) as Record<string, unknown>
            assert.equal(next, String(last[CURSOR[type]]), 'the cursor is the last entry of the page')
            assert.match(String(reply.headers.link), new RegExp(`after=${next}&limit=${limit}>; rel="next"`))
            after = String(next)
            assert.ok(pages <= all.length + 1, 'paging terminates')
          }
          assert.deepEqual(collected, all, `pages of ${limit} add up to the journal`)
        }
      })
    }

    test('GET journal filters by moment with from and to', async () => {
      const future = new Date(Date.now() + 86_400_000).toISOString()
      const past = '2000-01-01T00:00:00.000Z'
      for (const type of JOURNAL_TYPES) {
        const all = await pos.journal(type)
        assert.deepEqual((await pos.get(pos.journalUrl(type, `?from=${future}`))).json(), [])
        assert.deepEqual((await pos.get(pos.journalUrl(type, `?to=${past}`))).json(), [])
        assert.deepEqual((await pos.get(pos.journalUrl(type, `?from=${past}&to=${future}`))).json(), all)
      }
    })

    test('POST /v2/journal {ftJournalType: 2, From: 0, To: -3} answers the first 3 receipt journal entries', async () => {
      const reply = await pos.post('/v2/journal', { ftJournalType: 2, From: 0, To: -3 })
      assert.equal(reply.status, 200, reply.payload)
      const entries = reply.json()
      assert.equal(entries.length, 3)
      assert.deepEqual(entries, (await pos.journal('ReceiptJournal')).slice(0, 3))
    })

    test('POST /v2/journal types 1 and 3, all entries with To 0, and time ranges in ticks', async () => {
      const actions = await pos.post('/v2/journal', { ftJournalType: 1, From: 0, To: -2 })
      assert.deepEqual(actions.json(), (await pos.journal('ActionJournal')).slice(0, 2))
      const items = await pos.post('/v2/journal', { ftJournalType: 3, From: 0, To: 0 })
      assert.deepEqual(items.json(), await pos.journal('QueueItem'))
      const asStrings = await pos.post('/v2/journal', { ftJournalType: '3', From: '0', To: '-1' })
      assert.deepEqual(asStrings.json(), (await pos.journal('QueueItem')).slice(0, 1))
      const tomorrow = ticks(new Date(Date.now() + 86_400_000))
      const fromFuture = await pos.post('/v2/journal', { ftJournalType: 2, From: tomorrow.toString(), To: 0 })
      assert.deepEqual(fromFuture.json(), [])
      const untilPast = await pos.post('/v2/journal', {
        ftJournalType: 2,
        From: 0,
        To: ticks(new Date('2000-01-01T00:00:00Z')).toString(),
      })
      assert.deepEqual(untilPast.json(), [])
      // Ticks are 18-digit numbers: sent bare, they must keep their digits.
      const since2000 = await pos.postRaw(
        '/v2/journal',
        `{"ftJournalType": 2, "From": ${ticks(new Date('2000-01-01T00:00:00Z'))}, "To": 0}`,
      )
      assert.equal(since2000.status, 200, since2000.payload)
      assert.equal(since2000.json().length, 9)
      const sinceTomorrow = await pos.postRaw('/v2/journal', `{"ftJournalType": 2, "From": ${tomorrow}}`)
      assert.deepEqual(sinceTomorrow.json(), [])
      const tenThousandEntries = await pos.post('/v2/journal', { ftJournalType: 2, To: -10_000 })
      assert.equal(tenThousandEntries.json().length, 9)
    })

    test('POST /v2/journal ftJournalType 0 answers the version, 255 the configuration', async () => {
      const version = await pos.post('/v2/journal', { ftJournalType: 0 })
      assert.equal(version.status, 200)
      assert.equal(version.json().Product, 'fiscalbox')
      assert.match(version.json().Version, /^\d+\.\d+\.\d+/)
      const config = await pos.post('/v2/journal', { ftJournalType: 255 })
      assert.equal(config.status, 200)
      const body = config.json()
      assert.equal(body.ftCashBoxId, pos.box.cashboxId)
      assert.equal(body.Country, 'EU')
      assert.equal(body.ftQueues.length, 1)
      assert.equal(body.ftQueues[0].ftQueueId, pos.queueId)
      assert.equal(body.ftQueues[0].ftCurrentRow, 10)
      assert.equal(body.ftQueues[0].ftReceiptNumerator, 9)
      assert.ok(!Number.isNaN(Date.parse(body.ftQueues[0].StartMoment)))
      assert.equal(body.ftQueues[0].StopMoment, null)
    })

    test('bad journal requests are problems naming the field', async () => {
      assertProblem(await pos.post('/v2/journal', { ftJournalType: 7 }), 400, 'ftJournalType')
      assertProblem(await pos.post('/v2/journal', { ftJournalType: 'abc' }), 400, 'ftJournalType')
      assertProblem(await pos.post('/v2/journal', { ftJournalType: null }), 400, /ftJournalType$/)
      assertProblem(await pos.post('/v2/journal', { ftJournalType: '' }), 400, 'ftJournalType')
      assertProblem(await pos.post('/v2/journal', { ftJournalType: 2, To: 'x' }), 400, 'To')
      // Tick values past the last date a clock can show are a bad request, not a server error.
      assertProblem(
        await pos.post('/v2/journal', { ftJournalType: 2, To: '99999999999999999999' }),
        400,
        'To',
      )
      assertProblem(await pos.get(pos.journalUrl('Nope' as JournalType)), 400, 'type')
      assertProblem(await pos.get(pos.journalUrl('QueueItem', '?limit=0')), 400, 'limit')
      assertProblem(await pos.get(pos.journalUrl('QueueItem', '?limit=10001')), 400, 'limit')
      assertProblem(await pos.get(pos.journalUrl('QueueItem', '?limit=abc')), 400, /limit$/)
      assertProblem(await pos.get(pos.journalUrl('QueueItem', '?after=-1')), 400, /after$/)
      assertProblem(await pos.get(pos.journalUrl('QueueItem', '?from=yesterday')), 400, /from$/)
    })

    test("another cash box's queue is 404 and its data stays out of the answer", async () => {
      const other = await startedPos(harness)
      const secret = `SECRET-${randomUUID()}`
      await other.signOk(receipt({ reference: secret }))
      // The owner sees it: the 404 below is not an empty journal.
      assert.ok((await other.get(other.journalUrl('QueueItem'))).payload.includes(secret))
      for (const type of JOURNAL_TYPES) {
        for (const queueId of [other.queueId, other.queueId.toUpperCase(), randomUUID()]) {
          const reply = await pos.get(pos.journalUrl(type, '?limit=10', queueId))
          const problem = assertProblem(reply, 404)
          assert.equal(problem.error, 'not_found')
          assert.ok(!reply.payload.includes(secret))
          assert.ok(!reply.payload.includes(other.box.cashboxId))
          assert.ok(!('ftQueueItemId' in problem))
          assert.equal(reply.headers['x-next-after'], undefined)
        }
      }
    })

    test('journals need the credentials of the cash box', async () => {
      for (const headers of [
        { 'x-cashbox-accesstoken': 'wrong' },
        { 'x-cashbox-accesstoken': undefined },
        { 'x-cashbox-id': randomUUID() },
      ]) {
        const reply = await pos.get(pos.journalUrl('ReceiptJournal'), headers)
        const problem = assertProblem(reply, 401)
        assert.equal(problem.error, 'unauthorized')
        assert.ok(!reply.payload.includes('ftReceiptHash'))
      }
    })
  })
}
