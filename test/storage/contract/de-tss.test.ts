import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import type {
  ClientRecord,
  ExportRecord,
  ListQuery,
  LogRecord,
  TransactionRecord,
  TssRecord,
} from '../../../src/markets/de/tss/model.ts'
import type { TssStore } from '../../../src/markets/de/tss/ports.ts'
import type { Storage } from '../../../src/storage/database.ts'
import type { DeTables } from '../../../src/markets/de/store/tables.ts'
import { tssStore } from '../../../src/markets/de/store/tss.ts'
import { moduleDatabase } from '../../../src/storage/module-database.ts'
import { inUnit } from './fixtures.ts'
import { runContract } from './runner.ts'

/** The German TSS store (markets/de/tss/ports.ts); its TssWork has a prepared-statement copy on SQLite. */
const build = (storage: Storage): TssStore => tssStore(moduleDatabase(storage))

const tss = (organizationId: string, timeCreation: number, extra: Partial<TssRecord> = {}): TssRecord => ({
  id: randomUUID(),
  organizationId,
  env: 'TEST',
  state: 'CREATED',
  description: `tss ${timeCreation}`,
  metadata: { note: 'ä' },
  algorithm: 'ecdsa-plain-SHA256',
  publicKey: 'BAAA',
  serialNumber: 'ab'.repeat(32),
  privateKeyEncrypted: 'sealed',
  certificate: 'MIIB',
  adminPukHash: 'puk-hash',
  adminPukEncrypted: 'sealed-puk',
  adminPinHash: null,
  adminPinFailures: 0,
  adminSessionUntil: null,
  signatureCounter: 0,
  transactionCounter: 0,
  numberRegisteredClients: 0,
  numberActiveTransactions: 0,
  lastLogTime: 0,
  timeCreation,
  timeUninit: null,
  timeInit: null,
  timeDisable: null,
  ...extra,
})

const client = (tssId: string, n: number, extra: Partial<ClientRecord> = {}): ClientRecord => ({
  id: randomUUID(),
  tssId,
  serialNumber: `client-${n}`,
  state: 'REGISTERED',
  metadata: {},
  timeCreation: 1000 + n,
  timeUpdate: 1000 + n,
  ...extra,
})

const transaction = (tssId: string, clientId: string, number: number): TransactionRecord => ({
  tssId,
  id: randomUUID(),
  number,
  clientId,
  state: 'ACTIVE',
  latestRevision: 1,
  schemaKind: null,
  metadata: { n: String(number) },
  timeStart: 2000 + number,
  timeEnd: null,
})

const log = (tssId: string, signatureCounter: number, extra: Partial<LogRecord> = {}): LogRecord => ({
  tssId,
  signatureCounter,
  kind: 'transaction',
  operation: 'StartTransaction',
  logTime: 3000 + signatureCounter,
  transactionNumber: signatureCounter,
  clientSerial: signatureCounter % 2 ? 'client-odd' : 'client-even',
  message: Buffer.from([0, 255, signatureCounter % 256, 10]),
  ...extra,
})

const exportRecord = (
  tssId: string,
  timeRequest: number,
  extra: Partial<ExportRecord> = {},
): ExportRecord => ({
  tssId,
  id: randomUUID(),
  state: 'PENDING',
  filters: { maximumNumberRecords: 1000 },
  exception: null,
  uptoSignatureCounter: null,
  recordCount: null,
  metadata: {},
  timeRequest,
  timeStart: null,
  timeEnd: null,
  timeExpiration: null,
  ...extra,
})

const query = (extra: Partial<ListQuery> = {}): ListQuery => ({
  limit: 100,
  offset: 0,
  order: 'asc',
  ...extra,
})

await runContract('TssStore', { build, preparedPath: true }, (t) => {
  const created = async (extra: Partial<TssRecord> = {}) => {
    const record = tss(randomUUID(), 1, extra)
    assert.equal(await t.store.run((work) => work.insertTss(record)), true)
    return record
  }

  describe('TssWork round trips', () => {
    it('inserts a TSS once; lockTss and getTss read every field back', async () => {
      const record = await created()
      assert.equal(await t.store.run((work) => work.insertTss({ ...record, description: 'second' })), false)
      assert.deepEqual(await t.store.run((work) => work.lockTss(record.id)), record)
      assert.deepEqual(await t.store.getTss(record.id), record)
      assert.equal(await t.store.run((work) => work.lockTss(randomUUID())), undefined)
      assert.equal(await t.store.getTss(randomUUID()), undefined)
    })

    it('saveTss writes every field', async () => {
      const record = await created()
      const saved: TssRecord = {
        ...record,
        state: 'INITIALIZED',
        description: 'changed',
        metadata: { a: 'b' },
        adminPukEncrypted: null,
        adminPinHash: 'pin',
        adminPinFailures: 2,
        adminSessionUntil: 99,
        signatureCounter: 5,
        transactionCounter: 4,
        numberRegisteredClients: 3,
        numberActiveTransactions: 2,
        lastLogTime: 77,
        timeUninit: 10,
        timeInit: 11,
        timeDisable: 12,
      }
      await t.store.run((work) => work.saveTss(saved))
      assert.deepEqual(await t.store.getTss(record.id), saved)
      assert.equal(await t.store.newestSignatureCounter(record.id), 5)
      assert.equal(await t.store.newestSignatureCounter(randomUUID()), 0)
    })

    it('clients: insert, find by id and by serial, save; a serial is unique per TSS', async () => {
      const [a, b] = [await created(), await created()]
      const first = client(a.id, 1)
      await t.store.run((work) => work.insertClient(first))
      const found = await t.store.run(async (work) => ({
        byId: await work.findClient(first.id),
        bySerial: await work.findClientBySerial(a.id, 'client-1'),
        elsewhere: await work.findClientBySerial(b.id, 'client-1'),
      }))
      assert.deepEqual(found, { byId: first, bySerial: first, elsewhere: undefined })
      await assert.rejects(t.store.run((work) => work.insertClient(client(a.id, 1))))
      await t.store.run((work) => work.insertClient(client(b.id, 1)))
      const saved = { ...first, state: 'DEREGISTERED' as const, metadata: { x: 'y' }, timeUpdate: 5000 }
      await t.store.run((work) => work.saveClient(saved))
      assert.deepEqual(await t.store.getClient(first.id), saved)
    })

    it('transactions: insert, find, save; a number is unique per TSS; found by id or number', async () => {
      const record = await created()
      const c = client(record.id, 1)
      const tx = transaction(record.id, c.id, 1)
      await t.store.run(async (work) => {
        await work.insertClient(c)
        await work.insertTransaction(tx)
      })
      assert.deepEqual(await t.store.run((work) => work.findTransaction(record.id, tx.id)), tx)
      await assert.rejects(t.store.run((work) => work.insertTransaction(transaction(record.id, c.id, 1))))
      const saved = { ...tx, state: 'FINISHED' as const, latestRevision: 3, schemaKind: 'raw', timeEnd: 9000 }
      await t.store.run((work) => work.saveTransaction(saved))
      assert.deepEqual(await t.store.getTransaction(record.id, tx.id), saved)
      assert.deepEqual(await t.store.getTransaction(record.id, '1'), saved)
      assert.equal(await t.store.getTransaction(record.id, '2'), undefined)
      assert.equal(await t.store.run((work) => work.findTransaction(randomUUID(), tx.id)), undefined)
    })

    it('revisions: stored once per (TSS, transaction, revision), answered verbatim', async () => {
      const record = await created()
      const txId = randomUUID()
      await t.store.run((work) => work.insertRevision(record.id, txId, 1, 'hash-1', '{"r":1}'))
      await t.store.run((work) => work.insertRevision(record.id, txId, 2, 'hash-2', '{"r":2}'))
      assert.deepEqual(await t.store.run((work) => work.findRevision(record.id, txId, 2)), {
        requestHash: 'hash-2',
        response: '{"r":2}',
      })
      assert.equal(await t.store.getRevisionResponse(record.id, txId, 1), '{"r":1}')
      assert.equal(await t.store.getRevisionResponse(record.id, txId, 3), undefined)
      await assert.rejects(t.store.run((work) => work.insertRevision(record.id, txId, 1, 'other', '{}')))
      assert.equal(await t.store.getRevisionResponse(record.id, txId, 1), '{"r":1}')
    })

    it('exports: insert, find, save, and count the open ones', async () => {
      const record = await created()
      const pending = exportRecord(record.id, 1, { filters: { maximumNumberRecords: 5, clientId: 'c' } })
      const working = exportRecord(record.id, 2, { state: 'WORKING', timeStart: 3 })
      const done = exportRecord(record.id, 3, { state: 'COMPLETED' })
      await t.store.run(async (work) => {
        for (const e of [pending, working, done]) await work.insertExport(e)
      })
      assert.equal(await t.store.run((work) => work.countOpenExports(record.id)), 2)
      assert.deepEqual(await t.store.run((work) => work.findExport(record.id, pending.id)), pending)
      const saved: ExportRecord = {
        ...pending,
        state: 'ERROR',
        exception: 'E_TEST',
        uptoSignatureCounter: 8,
        recordCount: 7,
        metadata: { m: 'n' },
        timeStart: 4,
        timeEnd: 5,
        timeExpiration: 6,
      }
      await t.store.run((work) => work.saveExport(saved))
      assert.deepEqual(await t.store.getExport(record.id, pending.id), saved)
      assert.equal(await t.store.run((work) => work.countOpenExports(record.id)), 1)
      await assert.rejects(t.store.run((work) => work.insertExport(working)))
    })
  })

  describe('transactions of the store', () => {
    it('run rolls back everything when its work throws', async () => {
      const record = tss(randomUUID(), 1)
      await assert.rejects(
        t.store.run(async (work) => {
          await work.insertTss(record)
          await work.insertClient(client(record.id, 1))
          throw new Error('fails after writing')
        }),
        /fails after writing/,
      )
      assert.equal(await t.store.getTss(record.id), undefined)
    })

    it('within(unit) commits and rolls back with the unit it joins', async () => {
      const kept = tss(randomUUID(), 1)
      await inUnit(t.storage, async (unit) => {
        await t.store.within(unit).insertTss(kept)
        assert.deepEqual(await t.store.within(unit).lockTss(kept.id), kept, 'the unit sees its own write')
      })
      assert.deepEqual(await t.store.getTss(kept.id), kept)
      const dropped = tss(randomUUID(), 1)
      await assert.rejects(
        inUnit(t.storage, async (unit) => {
          await t.store.within(unit).insertTss(dropped)
          throw new Error('the receipt failed')
        }),
      )
      assert.equal(await t.store.getTss(dropped.id), undefined)
    })

    it('lockTss serializes concurrent read-modify-writes of one TSS: no counter update is lost', async () => {
      const record = await created()
      const stores = [t.store, t.build()]
      const UNITS = 24
      await Promise.all(
        Array.from({ length: UNITS }, (_, i) =>
          (stores[i % 2] as TssStore).run(async (work) => {
            const locked = await work.lockTss(record.id)
            assert.ok(locked)
            // A round trip between the read and the write, where another unit would slip in without the lock.
            await work.countOpenExports(record.id)
            await work.saveTss({ ...locked, signatureCounter: locked.signatureCounter + 1 })
          }),
        ),
      )
      assert.equal(await t.store.newestSignatureCounter(record.id), UNITS)
    })
  })

  describe('lists', () => {
    it('tssInService lists the TSS of every organization but the disabled ones, with their certificates', async () => {
      const [a, b] = [randomUUID(), randomUUID()]
      const records = [
        tss(a, 1, { certificate: 'MIIBa' }),
        tss(a, 2, { state: 'DISABLED', certificate: 'MIIBb' }),
        tss(b, 3, { state: 'INITIALIZED', certificate: 'MIIBc' }),
      ]
      await t.store.run(async (work) => {
        for (const r of records) await work.insertTss(r)
      })
      const mine = new Set(records.map((r) => r.id))
      assert.deepEqual(
        (await t.store.tssInService()).filter((r) => mine.has(r.id)),
        [records[0], records[2]].map((r) => ({
          id: r?.id,
          organizationId: r?.organizationId,
          certificate: r?.certificate,
        })),
      )
    })

    it('listTss pages one organization by the chosen column and direction, with the total', async () => {
      const organizationId = randomUUID()
      const records = [3, 1, 4, 2, 5].map((time) =>
        tss(organizationId, time, { state: time % 2 ? 'INITIALIZED' : 'DISABLED' }),
      )
      await t.store.run(async (work) => {
        for (const r of records) await work.insertTss(r)
        await work.insertTss(tss(randomUUID(), 0))
      })
      const times = (page: { data: TssRecord[] }) => page.data.map((r) => r.timeCreation)
      const asc = await t.store.listTss(organizationId, query({ limit: 2 }))
      assert.deepEqual([times(asc), asc.count], [[1, 2], 5])
      assert.deepEqual(times(await t.store.listTss(organizationId, query({ limit: 2, offset: 2 }))), [3, 4])
      assert.deepEqual(
        times(await t.store.listTss(organizationId, query({ order: 'desc', limit: 3 }))),
        [5, 4, 3],
      )
      const initialized = await t.store.listTss(organizationId, query({ states: ['INITIALIZED'] }))
      assert.deepEqual([times(initialized), initialized.count], [[1, 3, 5], 3])
      const past = await t.store.listTss(organizationId, query({ offset: 10 }))
      assert.deepEqual([past.data, past.count], [[], 5])
    })

    it('listClients and listTransactions stay within the organization and filter by TSS and client', async () => {
      const organizationId = randomUUID()
      const [a, b] = [tss(organizationId, 1), tss(organizationId, 2)]
      const stranger = tss(randomUUID(), 3)
      const clients = [client(a.id, 2), client(a.id, 1), client(b.id, 3), client(stranger.id, 4)]
      const [ca2, ca1, cb3, cs4] = clients as [ClientRecord, ClientRecord, ClientRecord, ClientRecord]
      await t.store.run(async (work) => {
        for (const r of [a, b, stranger]) await work.insertTss(r)
        for (const c of clients) await work.insertClient(c)
        await work.insertTransaction(transaction(a.id, ca1.id, 2))
        await work.insertTransaction(transaction(a.id, ca2.id, 1))
        await work.insertTransaction(transaction(a.id, ca1.id, 3))
        await work.insertTransaction(transaction(b.id, cb3.id, 1))
        await work.insertTransaction(transaction(stranger.id, cs4.id, 1))
      })
      const serials = (page: { data: ClientRecord[] }) => page.data.map((c) => c.serialNumber)
      const all = await t.store.listClients({ organizationId }, query())
      assert.deepEqual([serials(all), all.count], [['client-1', 'client-2', 'client-3'], 3])
      assert.deepEqual(serials(await t.store.listClients({ organizationId, tssId: b.id }, query())), [
        'client-3',
      ])
      const numbers = (page: { data: TransactionRecord[] }) =>
        page.data.map((x) => `${x.tssId === a.id ? 'a' : 'b'}${x.number}`)
      const txs = await t.store.listTransactions({ organizationId, tssId: a.id }, query({ order: 'desc' }))
      assert.deepEqual([numbers(txs), txs.count], [['a3', 'a2', 'a1'], 3])
      const ofClient = await t.store.listTransactions({ organizationId, clientId: ca1.id }, query())
      assert.deepEqual([numbers(ofClient), ofClient.count], [['a2', 'a3'], 2])
      assert.equal((await t.store.listTransactions({ organizationId }, query())).count, 4)
    })

    it('listExports pages one TSS, or all TSS of an organization, by request time', async () => {
      const record = await created()
      const sibling = await created({ organizationId: record.organizationId })
      const stranger = await created({ organizationId: randomUUID() })
      await t.store.run(async (work) => {
        for (const time of [2, 3, 1]) await work.insertExport(exportRecord(record.id, time))
        await work.insertExport(exportRecord(sibling.id, 4))
        await work.insertExport(exportRecord(stranger.id, 5))
      })
      const { organizationId } = record
      const page = await t.store.listExports(
        { organizationId, tssId: record.id },
        query({ order: 'desc', limit: 2 }),
      )
      assert.deepEqual([page.data.map((e) => e.timeRequest), page.count], [[3, 2], 3])
      const all = await t.store.listExports({ organizationId }, query({ order: 'desc' }))
      assert.deepEqual([all.data.map((e) => e.timeRequest), all.count], [[4, 3, 2, 1], 4])
    })
  })

  describe('logs', () => {
    it('insertLog stores the message bytes; findLogByCounter reads them back', async () => {
      const record = await created()
      const entry = log(record.id, 1, {
        kind: 'system',
        operation: 'UpdateTime',
        transactionNumber: null,
        clientSerial: null,
      })
      await t.store.run((work) => work.insertLog(entry))
      assert.deepEqual(await t.store.findLogByCounter(record.id, 1), entry)
      assert.equal(await t.store.findLogByCounter(record.id, 2), undefined)
      await assert.rejects(t.store.run((work) => work.insertLog(log(record.id, 1))))
    })

    it('countLogs and streamLogs apply every filter, in signature counter order', async () => {
      const record = await created()
      await t.store.run(async (work) => {
        for (const counter of [5, 2, 8, 1, 7, 3, 6, 4]) await work.insertLog(log(record.id, counter))
      })
      const select = async (
        filters: Record<string, number>,
        extra: { upto?: number; clientSerial?: string } = {},
      ) => {
        const selection = {
          tssId: record.id,
          uptoSignatureCounter: extra.upto ?? 100,
          filters: { maximumNumberRecords: 1000, ...filters },
          ...(extra.clientSerial ? { clientSerial: extra.clientSerial } : {}),
        }
        const counters: number[] = []
        for await (const entry of t.store.streamLogs(selection)) counters.push(entry.signatureCounter)
        assert.equal(await t.store.countLogs(selection), counters.length)
        return counters
      }
      assert.deepEqual(await select({}), [1, 2, 3, 4, 5, 6, 7, 8])
      assert.deepEqual(await select({}, { upto: 5 }), [1, 2, 3, 4, 5])
      assert.deepEqual(await select({ startSignatureCounter: 3, endSignatureCounter: 5 }), [3, 4, 5])
      assert.deepEqual(await select({ startDate: 3002, endDate: 3004 }), [2, 3, 4])
      assert.deepEqual(await select({ transactionNumber: 6 }), [6])
      assert.deepEqual(await select({ startTransactionNumber: 7, endTransactionNumber: 9 }), [7, 8])
      assert.deepEqual(await select({}, { clientSerial: 'client-odd' }), [1, 3, 5, 7])
    })

    it('streamLogs reads past its page size without losing or repeating a message', async () => {
      const record = await created()
      const COUNT = 1003
      // One multi-row insert: the fixture, not the port under test, so it need not go through insertLog.
      await moduleDatabase<DeTables>(t.storage)
        .db.insertInto('de_tss_logs')
        .values(
          Array.from({ length: COUNT }, (_, i) => ({
            tss_id: record.id,
            signature_counter: COUNT - i,
            kind: 'audit',
            operation: 'audit',
            log_time: COUNT - i,
            transaction_number: null,
            client_serial: null,
            message: '',
          })),
        )
        .execute()
      let expected = 1
      for await (const entry of t.store.streamLogs({
        tssId: record.id,
        uptoSignatureCounter: COUNT,
        filters: { maximumNumberRecords: COUNT },
      })) {
        assert.equal(entry.signatureCounter, expected)
        expected += 1
      }
      assert.equal(expected, COUNT + 1)
    })
  })
})
