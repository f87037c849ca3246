import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createReadStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, describe, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { buildApp } from '../../src/api/app.ts'
import { exportJournal } from '../../src/cli/export-journal.ts'
import type { CreatedCashbox } from '../../src/core/cashboxes.ts'
import type { Market, SigningContext } from '../../src/core/market.ts'
import type { Receipt } from '../../src/core/receipt.ts'
import { openRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime.ts'
import { JournalVerifier } from '../../src/verify/journal-verifier.ts'
import { countryBits } from '../api/support.ts'
import { type EngineName, engines, freshPostgresDatabase } from '../helpers/engines.ts'
import {
  type ExternalUnitDouble,
  externalUnitMarket,
  startExternalUnitDouble,
} from '../helpers/external-unit.ts'

/**
 * The market contract: one suite that every country's market runs (as hono's router conformance suite runs
 * against every router), through the public interface (/v2/sign, the journals, a restart of the process).
 * What a market must keep, whatever its country:
 * - validate() writes nothing: a receipt it refuses gets a 400 that names the field, and no byte changes;
 * - seal() is idempotent per operation id: a retry gets the same bytes and makes no second receipt;
 * - a throw after seal() rolls everything back, and the retry signs once;
 * - the market's state survives a restart: numbering, chain and the market's own state go on;
 * with an external unit, also: a unit that times out gives ftState 0x2 and the queue goes on; a crash
 * between the reservation and the commit is recovered by asking the unit, without a second document; a
 * slow unit holds up its own queue only.
 */
export interface MarketImplementation {
  /** The ISO country of its cash boxes. */
  country: string
  /** Provisioning a new cash box needs before its start receipt (AT: its signature devices). */
  provision?(pos: ContractPos): Promise<void>
  /** Configuration needed before sales (ES: the Spanish system), after the start receipt. */
  configure?(pos: ContractPos): Promise<void>
  start(): Record<string, unknown>
  sale(): Record<string, unknown>
  /** A receipt that the core accepts and the market refuses, and the field its 400 must name. */
  refused?(): { body: Record<string, unknown>; field: string }
  /** A market whose receipts go through an external unit double. */
  external?: boolean
}

export interface Reply {
  status: number
  payload: string
  json(): any
}

export class ContractPos {
  constructor(
    readonly app: FastifyInstance,
    readonly box: CreatedCashbox,
  ) {}

  headers(): Record<string, string> {
    return { 'x-cashbox-id': this.box.cashboxId, 'x-cashbox-accesstoken': this.box.accessToken }
  }

  async request(method: 'GET' | 'PUT' | 'POST', url: string, body?: unknown, extra = {}): Promise<Reply> {
    const r = await this.app.inject({
      method,
      url,
      headers: {
        ...this.headers(),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...extra,
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    })
    return { status: r.statusCode, payload: r.payload, json: () => r.json() }
  }

  sign(body: unknown, operationId: string = randomUUID()): Promise<Reply> {
    return this.request('POST', '/v2/sign', body, { 'x-operation-id': operationId })
  }

  async signOk(body: unknown, operationId?: string): Promise<any> {
    const reply = await this.sign(body, operationId)
    assert.equal(reply.status, 200, reply.payload)
    return reply.json()
  }

  async receiptJournal(): Promise<any[]> {
    const reply = await this.request('GET', `/v2/journal/${this.box.queueId}/ReceiptJournal`)
    assert.equal(reply.status, 200, reply.payload)
    return reply.json()
  }
}

/** One process of fiscalbox on a database that outlives it (restarts, crashes). */
interface Node {
  runtime: Runtime
  app: FastifyInstance
  close(): Promise<void>
}

interface Site {
  engine: EngineName
  open(options?: Pick<RuntimeOptions, 'markets'>): Promise<Node>
  drop(): Promise<void>
}

async function site(engine: EngineName): Promise<Site> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-market-contract-'))
  const pgDb = engine === 'postgres' ? await freshPostgresDatabase() : undefined
  const config = {
    DATABASE_URL: pgDb ? pgDb.url : `sqlite:${join(dataDir, 'fiscalbox.db')}`,
    FISCALBOX_DATA_DIR: dataDir,
    PG_POOL_SIZE: 5,
  }
  return {
    engine,
    async open(options = {}) {
      const runtime = await openRuntime(config, options)
      const app = await buildApp(runtime, { bodyLimit: 1 << 20, logger: false })
      await app.ready()
      return {
        runtime,
        app,
        async close() {
          await app.close()
          await runtime.close()
        },
      }
    },
    async drop() {
      await pgDb?.drop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Every row of every table, as text: "nothing was written" compares two of these. */
async function databaseDigest(runtime: Runtime): Promise<string> {
  const db = runtime.storage.db
  const names = runtime.storage.sqlite
    ? (
        await sql<{
          name: string
        }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name`.execute(
          db,
        )
      ).rows
    : (
        await sql<{
          name: string
        }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name not like 'kysely_%' order by table_name`.execute(
          db,
        )
      ).rows
  const parts: string[] = []
  for (const { name } of names) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db)
    const lines = rows.rows.map((row) =>
      JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    )
    parts.push(`${name}:${lines.sort().join('\n')}`)
  }
  return parts.join('\n\n')
}

async function verifiedReceipts(runtime: Runtime, pos: ContractPos): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-contract-export-'))
  try {
    const file = join(dir, 'journal.jsonl')
    await exportJournal(runtime, pos.box.cashboxId, file)
    const verifier = new JournalVerifier()
    let n = 0
    for await (const line of createInterface({
      input: createReadStream(file),
      crlfDelay: Number.POSITIVE_INFINITY,
    }))
      verifier.line(line, ++n)
    const report = verifier.finish()
    assert.deepEqual(report.problems, [], 'the independent journal verifier finds no problem')
    return report.receipts
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** ftState 0x2: the signing unit failed (a market may add others, e.g. Spain's 0x40 message pending). */
const FAILED = 0x2n

/** Low 32 bits of an ftState: the state flags. */
const stateFlags = (ftState: string): bigint => BigInt(ftState) & 0xffff_ffffn

/** Runs the market contract against one implementation, on every engine. */
export async function marketContract(name: string, implementation: MarketImplementation): Promise<void> {
  const countryCode = Number(countryBits(implementation.country))

  for (const engine of await engines()) {
    describe(`market contract: ${name} (${engine})`, () => {
      let where: Site
      let unit: ExternalUnitDouble | undefined
      /** Fault injection: while set, the market throws right after its seal() returned. */
      let throwAfterSeal = false
      /** Long enough that a busy machine never trips it, except where a test shortens it on purpose. */
      let unitTimeoutMs = 120_000
      /**
       * On PostgreSQL another node may be completing a reservation until its lease (the unit's timeout plus
       * 2 s) runs out, so the restarted process waits that long; 5 s keeps the wait short and is still far
       * more than closing a process takes. On SQLite no other process writes: no wait.
       */
      const crashTimeoutMs = engine === 'postgres' ? 5_000 : 120_000
      const markets: RuntimeOptions['markets'] = (code, market) => {
        const chosen: Market =
          code === countryCode && implementation.external && unit
            ? externalUnitMarket(unit.url, { timeoutMs: unitTimeoutMs })
            : market
        if (code !== countryCode) return chosen
        // The market itself, with seal() decorated: what else reaches it through the registry (the German
        // TSS services, the Spanish store) finds it as before.
        const decorated: Market = Object.create(chosen)
        Object.defineProperty(decorated, 'seal', {
          value: async (context: SigningContext, receipt: Receipt) => {
            const sealed = await chosen.seal(context, receipt)
            if (throwAfterSeal) throw new Error('injected fault after seal')
            return sealed
          },
        })
        return decorated
      }
      let node: Node

      before(async () => {
        where = await site(engine)
        if (implementation.external) unit = await startExternalUnitDouble({ latencyMs: 5 })
        node = await where.open({ markets })
      })
      after(async () => {
        await node.close()
        await unit?.close()
        await where.drop()
      })

      async function startedPos(app: FastifyInstance = node.app): Promise<ContractPos> {
        const pos = new ContractPos(app, await node.runtime.cashboxes.create(implementation.country))
        await implementation.provision?.(pos)
        const started = await pos.signOk(implementation.start())
        assert.equal(stateFlags(started.ftState), 0n, JSON.stringify(started))
        await implementation.configure?.(pos)
        return pos
      }

      if (implementation.refused) {
        const refused = implementation.refused
        test('validate() refuses with a 400 naming the field, and writes nothing', async () => {
          const pos = await startedPos()
          const { body, field } = refused()
          const before = await databaseDigest(node.runtime)
          const reply = await pos.sign(body)
          assert.equal(reply.status, 400, reply.payload)
          assert.ok(
            JSON.stringify(reply.json()).includes(field),
            `the problem names ${field}: ${reply.payload}`,
          )
          assert.equal(await databaseDigest(node.runtime), before, 'no row changed')
        })
      }

      test('seal() is idempotent per operation id: same bytes, one receipt; another body is a 409', async () => {
        const pos = await startedPos()
        const operationId = randomUUID()
        const body = implementation.sale()
        const first = await pos.sign(body, operationId)
        assert.equal(first.status, 200, first.payload)
        const journal = await pos.receiptJournal()
        const again = await pos.sign(body, operationId)
        assert.equal(again.status, 200)
        assert.equal(again.payload, first.payload, 'the retry gets the stored bytes')
        assert.equal((await pos.receiptJournal()).length, journal.length, 'no second receipt')
        const other = await pos.sign(implementation.sale(), operationId)
        assert.equal(other.status, 409, other.payload)
        if (unit) assert.equal(unit.issued.length, new Set(unit.issued.map((d) => d.key)).size)
      })

      test('a throw after seal() rolls everything back; the retry signs once', async () => {
        const pos = await startedPos()
        const operationId = randomUUID()
        const body = implementation.sale()
        const before = await databaseDigest(node.runtime)
        throwAfterSeal = true
        let failed: Reply
        try {
          failed = await pos.sign(body, operationId)
        } finally {
          throwAfterSeal = false
        }
        assert.equal(failed.status, 500, failed.payload)
        assert.equal(await databaseDigest(node.runtime), before, 'nothing of the failed receipt stayed')
        const retried = await pos.signOk(body, operationId)
        assert.equal(stateFlags(retried.ftState) & FAILED, 0n)
        const journal = await pos.receiptJournal()
        assert.equal(journal.length, 2, 'start receipt and the one sale')
      })

      test('numbering, chain and market state survive a restart of the process', async () => {
        const pos = await startedPos()
        const beforeRestart = [
          await pos.signOk(implementation.sale()),
          await pos.signOk(implementation.sale()),
        ]
        await node.close()
        node = await where.open({ markets })
        const again = new ContractPos(node.app, pos.box)
        const afterRestart = [
          await again.signOk(implementation.sale()),
          await again.signOk(implementation.sale()),
        ]
        const rows = [...beforeRestart, ...afterRestart].map((r) => r.ftQueueRow as number)
        assert.deepEqual(
          rows,
          rows.map((_r, i) => (rows[0] as number) + i),
          'queue rows go on without a gap',
        )
        for (const r of afterRestart) assert.equal(stateFlags(r.ftState) & FAILED, 0n, JSON.stringify(r))
        assert.equal(await verifiedReceipts(node.runtime, again), 5)
      })

      if (implementation.external) {
        test('a unit that times out: ftState 0x2 (signing unit failed), and the queue goes on', async () => {
          const double = unit as ExternalUnitDouble
          const pos = await startedPos()
          const release = double.hold()
          unitTimeoutMs = 300
          let failed: any
          try {
            failed = await pos.signOk(implementation.sale())
          } finally {
            unitTimeoutMs = 120_000
            release()
          }
          assert.equal(stateFlags(failed.ftState), FAILED, JSON.stringify(failed))
          const next = await pos.signOk(implementation.sale())
          assert.equal(stateFlags(next.ftState) & FAILED, 0n, JSON.stringify(next))
          assert.equal(next.ftQueueRow, failed.ftQueueRow + 1)
          assert.equal(await verifiedReceipts(node.runtime, pos), 3)
        })

        test('a slow unit holds up its own queue only; the queue keeps its order', async () => {
          const double = unit as ExternalUnitDouble
          const slow = await startedPos()
          const release = double.hold()
          const first = slow.sign(implementation.sale())
          const second = slow.sign(implementation.sale())
          let settled = 0
          void first.then(() => (settled += 1))
          void second.then(() => (settled += 1))
          try {
            // While the unit holds the slow queue's document, another cash box of the same market (its
            // calls held too) and a generic cash box are not held up by the slow queue's transaction.
            const generic = new ContractPos(node.app, await node.runtime.cashboxes.create('EU'))
            await generic.signOk({
              cbReceiptReference: 'contract-start',
              cbReceiptMoment: new Date().toISOString(),
              ftReceiptCase: '0x4555200000004001',
              cbChargeItems: [],
              cbPayItems: [],
            })
            for (let i = 0; i < 5; i++) {
              const reply = await generic.sign({
                cbReceiptReference: `contract-${i}`,
                cbReceiptMoment: new Date().toISOString(),
                ftReceiptCase: '0x4555200000000001',
                cbChargeItems: [{ Quantity: 1, Description: 'x', Amount: 1, VATRate: 20 }],
                cbPayItems: [{ Description: 'cash', Amount: 1 }],
              })
              assert.equal(reply.status, 200, reply.payload)
            }
            assert.equal(settled, 0, 'the slow queue is still waiting for its unit')
          } finally {
            release()
          }
          const [a, b] = [await first, await second]
          assert.equal(a.status, 200, a.payload)
          assert.equal(b.status, 200, b.payload)
          assert.equal(b.json().ftQueueRow, a.json().ftQueueRow + 1, 'the queue keeps its order')
          assert.equal(stateFlags(b.json().ftState) & FAILED, 0n)
        })

        test('a crash between reservation and commit: recovered by asking the unit, no second document', async () => {
          const double = unit as ExternalUnitDouble
          const pos = await startedPos()
          const operationId = randomUUID()
          const body = implementation.sale()
          const issuedBefore = double.issued.length
          unitTimeoutMs = crashTimeoutMs
          const release = double.hold()
          // The unit issues the document and holds its answer; the process dies meanwhile.
          const lost = pos.sign(body, operationId).catch((error: unknown) => error)
          while (double.issued.length === issuedBefore) await new Promise((r) => setTimeout(r, 5))
          await node.close()
          release()
          await lost
          node = await where.open({ markets })
          assert.equal(await node.runtime.reservationsRecovered, 1, 'one reservation recovered at start-up')
          unitTimeoutMs = 120_000
          const again = new ContractPos(node.app, pos.box)
          const replayed = await again.sign(body, operationId)
          assert.equal(replayed.status, 200, replayed.payload)
          const response = replayed.json()
          assert.equal(stateFlags(response.ftState) & FAILED, 0n, replayed.payload)
          assert.equal(double.issued.length, issuedBefore + 1, 'the unit issued one document')
          const document = double.issued.at(-1)
          assert.ok(
            JSON.stringify(response.ftSignatures).includes(String(document?.signature)),
            'the receipt carries the document the unit issued before the crash',
          )
          assert.equal(await verifiedReceipts(node.runtime, again), 2)
        })

        test('a crash before the unit got the call: the reservation is released, the retry issues once', async () => {
          const double = unit as ExternalUnitDouble
          const pos = await startedPos()
          const operationId = randomUUID()
          const body = implementation.sale()
          const issuedBefore = double.issued.length
          const performsBefore = double.calls.perform
          unitTimeoutMs = crashTimeoutMs
          // The call is on its way but the unit has not taken it when the process dies.
          const release = double.stall()
          const reserved = pos.sign(body, operationId).catch((error: unknown) => error)
          while (double.calls.perform === performsBefore) await new Promise((r) => setTimeout(r, 5))
          await node.close()
          release()
          await reserved
          assert.equal(double.issued.length, issuedBefore, 'nothing issued before the crash')
          node = await where.open({ markets })
          assert.equal(await node.runtime.reservationsRecovered, 1)
          unitTimeoutMs = 120_000
          const again = new ContractPos(node.app, pos.box)
          const signed = await again.sign(body, operationId)
          assert.equal(signed.status, 200, signed.payload)
          assert.equal(double.issued.length, issuedBefore + 1, 'one document, issued by the retry')
          assert.equal(signed.json().ftQueueRow, 2, "the released row is the retry's: no gap")
          assert.equal(await verifiedReceipts(node.runtime, again), 2)
        })
      }
    })
  }
}
