import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import {
  devkitCall,
  devkitCashPayItem,
  devkitReceiptCase,
  devkitReceiptRequest,
  devkitReceiptResponse,
  Num,
  netDateTime,
  netJson,
} from './devkit-support.ts'
import { code, newPos, PACKAGE_VERSION, type Pos, RECEIPT_CASE } from './support.ts'

/** DateTime.Ticks: 100 ns since 0001-01-01 UTC; `extra` adds ticks below the millisecond, as a clock has them. */
const ticksOf = (iso: string, extra = 0n): bigint =>
  BigInt(Date.parse(iso)) * 10_000n + 621_355_968_000_000_000n + extra

/** The devkit's PaymentProtocol enum (release build): the values its PayResponse can deserialize. */
const PAYMENT_PROTOCOLS = [
  'none',
  'use_auto',
  'use_first',
  'gp_softpos_gptom',
  'bluecode',
  'gp_mpas',
  'payone_softpos_wpi',
  'viva_eft_pos_instore',
  'hobex_softpos_posit',
  'hobexecr',
  'softpayio',
  'shift4',
]

for (const engine of await engines()) {
  describe(`fiskaltrust's POS System API devkit, as it sends (${engine})`, () => {
    let harness: Harness
    before(async () => {
      harness = await startHarness(engine)
    })
    after(async () => {
      await harness?.close()
    })

    /** A cash box started by the devkit's own start receipt (InitialOperationReceipt0x4001). */
    async function devkitPos(): Promise<Pos> {
      const pos = await newPos(harness)
      const started = await devkitCall(pos, '/sign', devkitReceiptRequest('EU', RECEIPT_CASE.start, []))
      assert.equal(started.status, 200, started.payload)
      return pos
    }

    test('JournalRequest {ftJournalType, From, To} in ticks, as System.Text.Json and Newtonsoft write it', async () => {
      // The devkit has no journal call; a POS reads journals with ifPOS's JournalRequest (long
      // ftJournalType, From, To). The devkit's serializer options leave the 0s out ({} asks for the
      // version); fiskaltrust's middleware writes them with Newtonsoft, every member present.
      const pos = await devkitPos()
      const sales = []
      for (let i = 0; i < 2; i++) {
        const signed = await devkitCall(
          pos,
          '/sign',
          devkitReceiptRequest('EU', RECEIPT_CASE.pos, [devkitCashPayItem()]),
        )
        assert.equal(signed.status, 200, signed.payload)
        sales.push(signed.json())
      }
      const stopped = await devkitCall(pos, '/sign', devkitReceiptRequest('EU', RECEIPT_CASE.stop, []))
      assert.equal(stopped.status, 200, stopped.payload)
      const journal = async (json: string) => {
        const reply = await devkitCall(pos, '/journal', json)
        assert.equal(reply.status, 200, `${json}: ${reply.payload}`)
        return reply.json()
      }
      const version = { Version: PACKAGE_VERSION, Product: 'fiscalbox' }
      assert.deepEqual(await journal('{}'), version)
      assert.deepEqual(await journal('{"ftJournalType":0,"From":0,"To":0}'), version)

      const names: Array<[number, 'ActionJournal' | 'ReceiptJournal' | 'QueueItem']> = [
        [1, 'ActionJournal'],
        [2, 'ReceiptJournal'],
        [3, 'QueueItem'],
      ]
      for (const [type, name] of names) {
        const all = await pos.journal(name)
        assert.ok(all.length >= 2, `${name}: ${all.length} entries`)
        assert.deepEqual(await journal(`{"ftJournalType":${type}}`), all, `${name}, defaults left out`)
        assert.deepEqual(
          await journal(`{"ftJournalType":${type},"From":0,"To":0}`),
          all,
          `${name}, Newtonsoft`,
        )
        assert.deepEqual(
          await journal(`{"ftJournalType":${type},"To":-1}`),
          all.slice(0, 1),
          `${name}, To -1`,
        )
        const since2000 = ticksOf('2000-01-01T00:00:00.000Z')
        assert.deepEqual(
          await journal(`{"ftJournalType":${type},"From":${since2000}}`),
          all,
          `${name}, since 2000`,
        )
        const tomorrow = ticksOf(new Date(Date.now() + 86_400_000).toISOString())
        assert.deepEqual(
          await journal(`{"ftJournalType":${type},"From":${tomorrow},"To":0}`),
          [],
          `${name}, future`,
        )
        assert.deepEqual(
          await journal(`{"ftJournalType":${type},"From":0,"To":${since2000}}`),
          [],
          `${name}, past`,
        )
      }
      // From and To are inclusive: the ticks of one receipt's millisecond select that receipt.
      const moment = sales[1].ftReceiptMoment
      const one = await journal(
        `{"ftJournalType":2,"From":${ticksOf(moment)},"To":${ticksOf(moment, 9_999n)}}`,
      )
      assert.deepEqual(
        one.map((entry: any) => entry.ftQueueItemId),
        [sales[1].ftQueueItemID],
      )

      const configuration = await devkitCall(pos, '/configuration', undefined)
      assert.equal(configuration.status, 200, configuration.payload)
      assert.deepEqual(await journal('{"ftJournalType":255}'), configuration.json())
      const unknown = await devkitCall(pos, '/journal', '{"ftJournalType":7}')
      assert.equal(
        unknown.status,
        400,
        'a type fiscalbox does not serve is named, not answered with the version',
      )
      assert.equal(unknown.json().details.field, 'ftJournalType')
    })

    test("ReceiptCaseBuilder's codes carry no version nibble: signed with the v2 meaning", async () => {
      // The devkit's own unit test: AT + PointOfSaleReceipt0x0001 builds exactly 0x4154_0000_0000_0001.
      assert.equal(devkitReceiptCase('AT', 0x0001n), 0x4154_0000_0000_0001n)
      assert.equal(devkitReceiptCase('EU', 0x0001n), 4995899361637433345n)
      const pos = await devkitPos()
      const request = devkitReceiptRequest('EU', RECEIPT_CASE.pos, [devkitCashPayItem()])
      assert.match(
        request,
        /"ftReceiptCase":4995899361637433345}$/,
        'a bare number, as System.Text.Json writes a ulong',
      )
      const signed = await devkitCall(pos, '/sign', request)
      assert.equal(signed.status, 200, signed.payload)
      assert.equal(signed.json().ftReceiptIdentification, 'ft2#')
      const [item] = (await pos.journal('QueueItem')).slice(-1)
      assert.equal(item.ftReceiptCase, '0x4555200000000001', 'journaled with its v2 meaning')
      const other = await devkitCall(
        pos,
        '/sign',
        devkitReceiptRequest('EU', RECEIPT_CASE.pos, [devkitCashPayItem()]).replace(
          '"ftReceiptCase":4995899361637433345',
          `"ftReceiptCase":${code('EU', RECEIPT_CASE.pos) | (3n << 44n)}`,
        ),
      )
      assert.equal(other.status, 400, 'a version other than 0 or 2 is still refused')
      assert.equal(other.json().details.field, 'ftReceiptCase')
    })

    test('numbers are answered as numbers, every digit of a 64-bit value kept', async () => {
      const pos = await devkitPos()
      const signed = await devkitCall(
        pos,
        '/sign',
        devkitReceiptRequest('EU', RECEIPT_CASE.pos, [devkitCashPayItem()]),
      )
      assert.equal(signed.status, 200, signed.payload)
      // FtStateJsonConverter reads only a JSON number (reader.GetUInt64()), as do SignatureFormatJsonConverter
      // and the ulong ftSignatureType: the exact digits, not a double's 4995934546009522000.
      assert.match(signed.payload, new RegExp(`"ftState":${code('EU', 0n)}[,}]`))
      assert.doesNotMatch(signed.payload, /"0x[0-9A-F]{16}"/, 'no hex string anywhere')
      for (const signature of signed.json().ftSignatures) {
        assert.match(String(signature.ftSignatureFormat), /^\d+$/)
        assert.match(String(signature.ftSignatureType), /^\d+$/)
      }
    })

    test('use_auto pays, and pay, sign and issue run as HOWTO_08 runs them', async () => {
      const pos = await devkitPos()
      const payRequest = netJson({
        Action: 'payment',
        Protocol: 'use_auto',
        cbPayItem: { Description: 'Card', Amount: new Num('30.0') },
        cbTerminalID: 'term1',
      })
      const paid = await devkitCall(pos, '/pay', payRequest)
      assert.equal(paid.status, 200, paid.payload)
      const payResponse = paid.json()
      assert.ok(
        PAYMENT_PROTOCOLS.includes(payResponse.Protocol),
        `Protocol ${payResponse.Protocol} is a PaymentProtocol`,
      )
      // PayItem.ftPayItemCase is a ulong?: a number, the cash box's non-cash case.
      assert.match(paid.payload, new RegExp(`"ftPayItemCase":${code('EU', 0x0002n)},`))
      // The devkit's PayItem, read from the answer and written back into the ReceiptRequest.
      const payItems = payResponse.ftPayItems.map((p: any) => ({
        ftPayItemId: p.ftPayItemId,
        Description: p.Description,
        Amount: new Num(String(p.Amount)),
        ftPayItemCase: new Num(p.ftPayItemCase),
        ftPayItemCaseData: p.ftPayItemCaseData,
        Moment: netDateTime(p.Moment),
      }))
      const request = devkitReceiptRequest('EU', RECEIPT_CASE.pos, payItems, {
        ftReceiptCaseData: { cbReceiptLines: ['This is a test receipt.', 'Thank you for your purchase!'] },
        cbTerminalID: 'term1',
      })
      const signed = await devkitCall(pos, '/sign', request)
      assert.equal(signed.status, 200, signed.payload)
      const response = signed.json()

      const issueWith = (moment?: (iso: string) => string) =>
        devkitCall(
          pos,
          '/issue',
          `{"ReceiptRequest":${request},"ReceiptResponse":${devkitReceiptResponse(response, moment)}}`,
        )
      const issued = await issueWith()
      assert.equal(issued.status, 200, issued.payload)
      assert.equal(issued.json().ftQueueItemID, response.ftQueueItemID)
      assert.match(issued.json().DocumentURL, /\/r\/[A-Za-z0-9_-]{22}$/)
      // Newtonsoft and DateTime.ToString("O") write all 7 fractional digits: the same moment.
      const sevenDigits = await issueWith((iso) => iso.replace(/\.(\d{3})Z$/, '.$10000Z'))
      assert.equal(sevenDigits.status, 200, sevenDigits.payload)
      assert.equal(
        sevenDigits.json().DocumentURL,
        issued.json().DocumentURL,
        'the same receipt, the same link',
      )
      const laterByATick = await issueWith((iso) => iso.replace(/\.(\d{3})Z$/, '.$10001Z'))
      assert.equal(
        laterByATick.status,
        200,
        'the journal keeps milliseconds: a tick below them is the same moment',
      )
      const aSecondLater = await issueWith((iso) =>
        iso.replace(/:(\d{2})\./, (_, s) => `:${String((Number(s) + 1) % 60).padStart(2, '0')}.`),
      )
      assert.equal(aSecondLater.status, 400, aSecondLater.payload)
      assert.equal(aSecondLater.json().details.field, 'ReceiptResponse.ftReceiptMoment')

      const delivered = await pos.get(`/v2/issue/${response.ftQueueID}/${response.ftQueueItemID}/delivered`)
      assert.equal(delivered.status, 204, 'IssueDeliveredAsync: not delivered yet')
    })
  })
}
