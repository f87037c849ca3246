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
 * slow unit holds up its own queue only;
 * with a delivery to an authority (through the outbox, on every surface that issues the market's records):
 * a failed submission is retried with backoff; a record whose answer was lost is looked up before it is
 * sent again, so it is registered once; a refused record goes to the dead letter while the later ones go
 * on; and the authority gets every record in chain order, through faults and a restart.
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
  /** The market's deliveries to its authorities (ES: VERI*FACTU and TicketBAI), each run by the contract. */
  deliveries?: readonly MarketDelivery[]
}

/** One delivery of the market: an authority double and the surfaces whose records go to it. */
export interface MarketDelivery {
  name: string
  authority(): Promise<AuthorityDouble>
  surfaces: readonly DeliverySurface[]
}

/** The authority as a test double with fault injection (ES: the Spanish authority simulator). */
export interface AuthorityDouble {
  /** The runtime options that send the market's records there, on the outbox's clock. */
  runtimeOptions(clock: () => number): Pick<RuntimeOptions, 'es' | 'v1'>
  /**
   * From now on: `unavailable` refuses every request unprocessed; `lost answers` processes every request
   * and never answers; `flaky` mixes both with answered requests, repeatably; `none` answers all.
   */
  fail(mode: 'none' | 'unavailable' | 'lost answers' | 'flaky'): Promise<void>
  /** The record of this number is refused as wrong in content. */
  refuse(number: string): Promise<void>
  /** What it registered of a chain: the numbers in the order they came, and whether it saw a broken link. */
  registered(chain: DeliveryChain): Promise<{ numbers: string[]; brokenLinks: number }>
  /** How many records it was sent that it held already (a resend after a lost answer). */
  duplicates(): Promise<number>
  close(): Promise<void>
}

/** A surface that issues the market's records (ES: /v2/sign and /v1/transactions). */
export interface DeliverySurface {
  name: string
  /** A new chain of records (a cash box, a location) on whatever node is current. */
  open(node: () => DeliveryNode): Promise<DeliveryChain>
}

export interface DeliveryNode {
  app: FastifyInstance
  runtime: Runtime
}

export interface DeliveryChain {
  /** The chain's issuer as the authority knows it (ES: its NIF). */
  readonly issuer: string
  /** Issues one record; its number as the authority knows it. */
  issue(): Promise<string>
  /** Every issued record in chain order: its number, what became of it, and its outbox job. */
  records(): Promise<DeliveredRecord[]>
}

export interface DeliveredRecord {
  number: string
  state: 'pending' | 'settled' | 'refused'
  job: { status: string; attempts: number }
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

/** One process of fiscalbox on a database that outlives it (restarts, crashes); markets' own suites use it too. */
export interface Node {
  runtime: Runtime
  app: FastifyInstance
  close(): Promise<void>
}

export interface Site {
  engine: EngineName
  /** where the processes' database and data folder are, for a CLI run on them */
  config: { DATABASE_URL: string; FISCALBOX_DATA_DIR: string }
  open(options?: Pick<RuntimeOptions, 'markets' | 'es' | 'v1'>): Promise<Node>
  drop(): Promise<void>
}

export async function site(engine: EngineName): Promise<Site> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-market-contract-'))
  const pgDb = engine === 'postgres' ? await freshPostgresDatabase() : undefined
  const config = {
    DATABASE_URL: pgDb ? pgDb.url : `sqlite:${join(dataDir, 'fiscalbox.db')}`,
    FISCALBOX_DATA_DIR: dataDir,
    PG_POOL_SIZE: 5,
  }
  return {
    engine,
    config,
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
export async function databaseDigest(runtime: Runtime): Promise<string> {
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
    for (const delivery of implementation.deliveries ?? []) deliveryContract(name, engine, delivery)
  }
}

/** A step of the outbox's clock: past any backoff of the delivery sections' engine (at most 8 s). */
const CLOCK_STEP_MS = 10_000

/** The delivery part of the contract, for one delivery through each of its surfaces, on one engine. */
function deliveryContract(market: string, engine: EngineName, delivery: MarketDelivery): void {
  describe(`market contract: ${market} delivery to ${delivery.name} (${engine})`, () => {
    let where: Site
    let authority: AuthorityDouble
    let node: Node
    /** The outbox's clock: moved by the tests, so that backoffs pass without waiting for them. */
    let now = Date.parse('2026-03-09T10:15:00Z')
    const clock = () => now
    // The workers are not started: due jobs run when a test says, as the workers would run them.
    const open = () =>
      where.open({
        ...authority.runtimeOptions(clock),
        v1: {
          ...authority.runtimeOptions(clock).v1,
          engine: { backoffBaseMs: 1_000, backoffMaxMs: 8_000, maxAttempts: 50 },
          rateLimit: { perMinute: 1_000_000, burst: 1_000_000 },
          clock,
        },
      })
    const current = () => node

    before(async () => {
      authority = await delivery.authority()
      where = await site(engine)
      node = await open()
    })
    after(async () => {
      await node.close()
      await where.drop()
      await authority.close()
    })

    const tick = () => {
      now += CLOCK_STEP_MS
    }
    /** Runs what is due now, and nothing more: the jobs' backoff is not waited for. */
    const runDue = async () => {
      for (let i = 0; i < 50 && (await node.runtime.v1.jobs.runDueOnce()) > 0; i++);
    }
    /** Runs due jobs and moves the clock on until no record of the chain is pending. */
    const deliverAll = async (chain: DeliveryChain) => {
      for (let round = 0; round < 60; round++) {
        await runDue()
        const records = await chain.records()
        if (records.every((r) => r.state !== 'pending')) return records
        tick()
      }
      assert.fail(`records still pending: ${JSON.stringify(await chain.records())}`)
    }
    /** Runs `work` while the authority fails as `mode` says; it answers everything again after. */
    const failing = async <T>(mode: Parameters<AuthorityDouble['fail']>[0], work: () => Promise<T>) => {
      await authority.fail(mode)
      try {
        return await work()
      } finally {
        await authority.fail('none')
      }
    }
    const issue = async (chain: DeliveryChain, count: number) => {
      const numbers: string[] = []
      for (let i = 0; i < count; i++) numbers.push(await chain.issue())
      return numbers
    }

    for (const surface of delivery.surfaces)
      describe(`through ${surface.name}`, () => {
        test('a failed submission is retried with backoff, then the records go in chain order', async () => {
          const chain = await surface.open(current)
          const numbers = await failing('unavailable', async () => {
            const issued = await issue(chain, 3)
            tick()
            await runDue()
            const [first] = await chain.records()
            assert.equal(first?.state, 'pending')
            assert.equal(first?.job.attempts, 1, JSON.stringify(first))
            await runDue()
            assert.equal((await chain.records())[0]?.job.attempts, 1, 'not tried again before its backoff')
            tick()
            await runDue()
            assert.equal((await chain.records())[0]?.job.attempts, 2, 'tried again after its backoff')
            assert.deepEqual((await authority.registered(chain)).numbers, [])
            return issued
          })
          const records = await deliverAll(chain)
          assert.deepEqual(
            records.map((r) => r.state),
            ['settled', 'settled', 'settled'],
          )
          assert.deepEqual(await authority.registered(chain), { numbers, brokenLinks: 0 })
        })

        test('a lost answer: the record is looked up before it is sent again, and registered once', async () => {
          const chain = await surface.open(current)
          const duplicates = await authority.duplicates()
          const numbers = await failing('lost answers', async () => {
            const issued = await issue(chain, 2)
            tick()
            await runDue()
            const { numbers: registered } = await authority.registered(chain)
            assert.ok(registered.length > 0, 'the authority registered what it was sent')
            assert.deepEqual(registered, issued.slice(0, registered.length))
            assert.ok(
              (await chain.records()).every((r) => r.state === 'pending'),
              'its answer never came',
            )
            return issued
          })
          const records = await deliverAll(chain)
          assert.deepEqual(
            records.map((r) => r.state),
            ['settled', 'settled'],
          )
          assert.deepEqual(await authority.registered(chain), { numbers, brokenLinks: 0 })
          assert.equal(await authority.duplicates(), duplicates, 'nothing was sent again that it held')
        })

        test('a refused record goes to the dead letter; the later records go on', async () => {
          const chain = await surface.open(current)
          const numbers = await issue(chain, 3)
          await authority.refuse(numbers[1] as string)
          const records = await deliverAll(chain)
          assert.deepEqual(
            records.map((r) => [r.state, r.job.status]),
            [
              ['settled', 'completed'],
              ['refused', 'dead'],
              ['settled', 'completed'],
            ],
          )
          assert.deepEqual((await authority.registered(chain)).numbers, [numbers[0], numbers[2]])
        })

        test('records reach the authority in chain order through faults and a restart', async () => {
          const chain = await surface.open(current)
          const duplicates = await authority.duplicates()
          const numbers = await failing('flaky', async () => {
            const issued = await issue(chain, 4)
            for (let round = 0; round < 3; round++) {
              tick()
              await runDue()
            }
            await node.close()
            node = await open()
            issued.push(...(await issue(chain, 2)))
            for (let round = 0; round < 5; round++) {
              tick()
              await runDue()
            }
            return issued
          })
          const records = await deliverAll(chain)
          assert.ok(
            records.every((r) => r.state === 'settled'),
            JSON.stringify(records),
          )
          assert.deepEqual(await authority.registered(chain), { numbers, brokenLinks: 0 })
          assert.equal(await authority.duplicates(), duplicates, 'nothing was sent again that it held')
        })
      })
  })
}
