import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { devkitCall, devkitCashPayItem, devkitReceiptRequest, netJson } from './devkit-support.ts'
import { assertProblem, newPos, PACKAGE_VERSION, type Pos, RECEIPT_CASE } from './support.ts'

/**
 * POST /v2/configuration as a POS built on fiskaltrust's devkit would call it (its HttpClient headers,
 * System.Text.Json bodies with defaults left out, a request without content for "just read"). No public
 * source gives this endpoint's wire format: what it answers and how a terminal pairs is fiscalbox's design,
 * docs/possystem-api-v2.md#post-v2configuration.
 */
const readConfiguration = async (pos: Pos) => {
  const reply = await devkitCall(pos, '/configuration', undefined)
  assert.equal(reply.status, 200, reply.payload)
  return reply.json()
}

for (const engine of await engines()) {
  describe(`POST /v2/configuration (${engine})`, () => {
    let harness: Harness
    before(async () => {
      harness = await startHarness(engine)
    })
    after(async () => {
      await harness?.close()
    })

    test('a POS reads its cash box, queue, signing unit and versions at start-up', async () => {
      const pos = await newPos(harness)
      const fresh = await readConfiguration(pos)
      assert.deepEqual(fresh, {
        ftCashBoxId: pos.box.cashboxId,
        Country: 'EU',
        ftQueues: [
          {
            ftQueueId: pos.queueId,
            CountryCode: 'EU',
            State: 'not started',
            StartMoment: null,
            StopMoment: null,
            ftCurrentRow: 0,
            ftReceiptNumerator: 0,
            LastReceiptMoment: null,
          },
        ],
        ftSignaturCreationUnits: [
          {
            Type: 'queue key',
            Id: pos.queueId,
            State: 'in service',
            Details: {
              algorithm: fresh.ftSignaturCreationUnits[0].Details.algorithm,
              publicKey: pos.box.publicKey,
            },
          },
        ],
        Terminals: [],
        Product: 'fiscalbox',
        Version: PACKAGE_VERSION,
        PosSystemApiVersion: '2',
      })

      const started = await devkitCall(pos, '/sign', devkitReceiptRequest('EU', RECEIPT_CASE.start, []))
      assert.equal(started.status, 200, started.payload)
      const sold = await devkitCall(
        pos,
        '/sign',
        devkitReceiptRequest('EU', RECEIPT_CASE.pos, [devkitCashPayItem()]),
      )
      assert.equal(sold.status, 200, sold.payload)
      const [queue] = (await readConfiguration(pos)).ftQueues
      assert.equal(queue.State, 'started')
      assert.equal(queue.StartMoment, started.json().ftReceiptMoment)
      assert.equal(queue.ftCurrentRow, 2)
      assert.equal(queue.ftReceiptNumerator, 2)
      assert.equal(queue.LastReceiptMoment, sold.json().ftReceiptMoment)

      const stopped = await devkitCall(pos, '/sign', devkitReceiptRequest('EU', RECEIPT_CASE.stop, []))
      assert.equal(stopped.status, 200, stopped.payload)
      const [stoppedQueue] = (await readConfiguration(pos)).ftQueues
      assert.equal(stoppedQueue.State, 'stopped')
      assert.equal(stoppedQueue.StopMoment, stopped.json().ftReceiptMoment)
    })

    test('an empty object reads the same, and the configuration journal (0xFF) answers the same document', async () => {
      const pos = await newPos(harness)
      const withoutContent = await readConfiguration(pos)
      const empty = await devkitCall(pos, '/configuration', '{}')
      assert.equal(empty.status, 200, empty.payload)
      assert.deepEqual(empty.json(), withoutContent)
      // ifPOS JournalRequest as System.Text.Json writes it with defaults left out: From and To are 0.
      const journal = await devkitCall(pos, '/journal', '{"ftJournalType":255}')
      assert.equal(journal.status, 200, journal.payload)
      assert.deepEqual(journal.json(), withoutContent)
    })

    test('a terminal pairs once: the same pairing again changes nothing, whatever its operation id', async () => {
      const pos = await newPos(harness)
      const pairing = netJson({ cbTerminalID: 'term1', Description: 'Counter 1' })
      const asked = new Date().toISOString()
      const first = await devkitCall(pos, '/configuration', pairing)
      const answered = new Date().toISOString()
      assert.equal(first.status, 200, first.payload)
      const [paired] = first.json().Terminals
      assert.equal(paired.cbTerminalID, 'term1')
      assert.equal(paired.Description, 'Counter 1')
      assert.match(paired.PairedMoment, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      assert.ok(asked <= paired.PairedMoment && paired.PairedMoment <= answered, paired.PairedMoment)
      const again = await devkitCall(pos, '/configuration', pairing)
      assert.equal(again.status, 200, again.payload)
      assert.deepEqual(again.json().Terminals, [paired], 'one pairing, its first moment kept')

      // The same terminal pairing four times at once is paired once.
      const racing = await Promise.all(
        Array.from({ length: 4 }, () =>
          devkitCall(pos, '/configuration', netJson({ cbTerminalID: 'term2' })),
        ),
      )
      for (const reply of racing) assert.equal(reply.status, 200, reply.payload)
      const terminals = (await readConfiguration(pos)).Terminals
      assert.deepEqual(
        terminals.map((t: any) => [t.cbTerminalID, t.Description]),
        [
          ['term1', 'Counter 1'],
          ['term2', ''],
        ],
      )

      const renamed = await devkitCall(
        pos,
        '/configuration',
        netJson({ cbTerminalID: 'term1', Description: 'Counter 9' }),
      )
      assertProblem(renamed, 409, 'Description')
      assert.deepEqual((await readConfiguration(pos)).Terminals, terminals, 'the pairing is unchanged')

      const other = await newPos(harness)
      assert.deepEqual(
        (await readConfiguration(other)).Terminals,
        [],
        "another cash box's terminals stay its own",
      )
    })

    test('bad pairings are 400 naming the field and the rule, and pair nothing', async () => {
      const pos = await newPos(harness)
      const cases: Array<[string, string]> = [
        ['{"cbTerminalID":42}', 'cbTerminalID'],
        ['{"cbTerminalID":null}', 'cbTerminalID'],
        ['{"cbTerminalID":""}', 'cbTerminalID'],
        ['{"cbTerminalID":"   "}', 'cbTerminalID'],
        [`{"cbTerminalID":"${'t'.repeat(201)}"}`, 'cbTerminalID'],
        ['{"cbTerminalID":"a\\u0000b"}', 'cbTerminalID'],
        ['{"cbTerminalID":"a\\nb"}', 'cbTerminalID'],
        ['{"cbTerminalID":"a\\ud800b"}', 'cbTerminalID'],
        ['{"Description":"Counter 1"}', 'cbTerminalID'],
        ['{"cbTerminalID":"t1","Description":5}', 'Description'],
        [`{"cbTerminalID":"t1","Description":"${'d'.repeat(201)}"}`, 'Description'],
        ['{"cbTerminalID":"t1","cbTerminalID":"t2"}', 'cbTerminalID'],
      ]
      for (const [body, field] of cases) {
        const reply = await devkitCall(pos, '/configuration', body)
        const problem = assertProblem(reply, 400, field)
        assert.ok(problem.details.reason.length > 0, body)
      }
      assertProblem(await devkitCall(pos, '/configuration', '[]'), 400)
      assertProblem(await devkitCall(pos, '/configuration', '"term1"'), 400)
      assert.deepEqual((await readConfiguration(pos)).Terminals, [], 'nothing was paired')
      // Lengths count UTF-16 code units, as System.String.Length does: 100 astral characters are 200.
      const long = await devkitCall(pos, '/configuration', netJson({ cbTerminalID: '😀'.repeat(100) }))
      assert.equal(long.status, 200, long.payload)
    })

    test('wrong or missing credentials are 401 and learn nothing', async () => {
      const pos = await newPos(harness)
      const call = (headers: Record<string, string>) =>
        harness.app.inject({
          method: 'POST',
          url: '/v2/configuration',
          headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
          payload: netJson({ cbTerminalID: 'intruder' }),
        })
      const replies = [
        await call({ 'x-cashbox-id': pos.box.cashboxId, 'x-cashbox-accesstoken': 'wrong' }),
        await call({ 'x-cashbox-id': randomUUID(), 'x-cashbox-accesstoken': pos.box.accessToken }),
        await call({ 'x-cashbox-id': pos.box.cashboxId }),
        await call({}),
      ]
      for (const reply of replies) {
        assert.equal(reply.statusCode, 401, reply.payload)
        assert.doesNotMatch(reply.payload, new RegExp(pos.queueId))
      }
      assert.deepEqual((await readConfiguration(pos)).Terminals, [], 'no terminal was paired')
    })

    test('each market shows its signing unit: TSS, signature devices, RT device, signing key, records system', async () => {
      const de = await newPos(harness, 'DE')
      assert.deepEqual((await readConfiguration(de)).ftSignaturCreationUnits, [
        { Type: 'TSS', Id: null, State: 'not created: the start receipt creates it' },
      ])
      const started = await devkitCall(de, '/sign', devkitReceiptRequest('DE', RECEIPT_CASE.start, []))
      assert.equal(started.status, 200, started.payload)
      const [tss] = (await readConfiguration(de)).ftSignaturCreationUnits
      assert.equal(tss.Type, 'TSS')
      assert.equal(tss.State, 'in service')
      const shown = await de.get('/de/v1/tss')
      assert.equal(shown.status, 200, shown.payload)
      assert.equal(tss.Id, shown.json().serial_number, 'the serial number /de/v1/tss shows')
      assert.match(tss.Id, /^[0-9a-f]{64}$/)

      const at = await newPos(harness, 'AT')
      const [device] = (await readConfiguration(at)).ftSignaturCreationUnits
      assert.equal(device.Type, 'signature device')
      assert.equal(device.State, 'in service')
      assert.equal(device.Details.kassenId, `KASSE-${at.box.cashboxId.slice(0, 8)}`)
      const provisioned = await at.get('/at/v1/cashbox')
      assert.equal(provisioned.status, 200, provisioned.payload)
      assert.equal(device.Id, provisioned.json().devices[0].certificateField)

      const it = await newPos(harness, 'IT')
      assert.deepEqual((await readConfiguration(it)).ftSignaturCreationUnits, [
        { Type: 'RT device', Id: null, State: 'not configured: PUT /it/v1/cashbox' },
      ])
      const configured = await harness.app.inject({
        method: 'PUT',
        url: '/it/v1/cashbox',
        headers: it.headers(),
        payload: { device: 'epson-rt', url: 'http://192.168.1.20' },
      })
      assert.equal(configured.statusCode, 200, configured.payload)
      const [rt] = (await readConfiguration(it)).ftSignaturCreationUnits
      assert.equal(rt.Type, 'RT device')
      assert.equal(rt.Id, 'http://192.168.1.20')
      assert.equal(rt.Details.device, 'epson-rt')

      const pt = await newPos(harness, 'PT')
      assert.deepEqual((await readConfiguration(pt)).ftSignaturCreationUnits, [
        { Type: 'signing key', Id: null, State: 'not configured: PUT /pt/v1/cashbox' },
      ])
      const fr = await newPos(harness, 'FR')
      const [queueKey] = (await readConfiguration(fr)).ftSignaturCreationUnits
      assert.equal(queueKey.Type, 'queue key', 'France signs with the queue key')
      assert.equal(queueKey.Details.publicKey, fr.box.publicKey)

      const es = await newPos(harness, 'ES')
      assert.deepEqual((await readConfiguration(es)).ftSignaturCreationUnits, [
        { Type: 'records system', Id: null, State: 'not configured: PUT /es/v1/cashbox' },
      ])
    })
  })
}
