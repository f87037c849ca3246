import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Server } from '../../../bench/processes.ts'
import type { CreatedCashbox } from '../../../src/core/cashboxes.ts'
import { type EngineName, freshPostgresDatabase } from '../../helpers/engines.ts'
import { newMasterKey, nodeEnv } from './fiscalbox.ts'

/** One /v2/sign operation of a till, and the answer it got (undefined: none yet). */
export interface SignOperation {
  cashbox: number
  operationId: string
  body: string
  answer?: string
}

export interface KillCycles {
  cashboxes: CreatedCashbox[]
  /** Starts `fiscalbox serve` (again). */
  start(): Promise<Server>
  startBody(cashbox: number): string
  saleBody(cycle: number, cashbox: number, n: number): string
  /** How many documents the signing units have issued so far: the kill waits for the cycle's first. */
  issued(): number
  cycles: number
  receiptsPerCycle: number
  /** The kill comes this long after the cycle's first document (ms): min + random() * (max - min). */
  killAfterMs: { min: number; max: number }
  random: () => number
}

/**
 * Tills sign through a real server that is killed with SIGKILL once per cycle, at a random moment after
 * the signing unit issued the cycle's first document; after each restart the unanswered operations are
 * sent again with their ids and bodies, each cash box in its order, and must be answered. At the end every
 * operation is sent once more and must get the same bytes. Returns the operations with their answers.
 */
export async function runKillCycles(c: KillCycles): Promise<{ operations: SignOperation[]; kills: number }> {
  let server: Server | undefined
  let lastFailure = ''
  const send = async (op: SignOperation): Promise<string | undefined> => {
    const box = c.cashboxes[op.cashbox] as CreatedCashbox
    try {
      const reply = await fetch(`${server?.url}/v2/sign`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-cashbox-id': box.cashboxId,
          'x-cashbox-accesstoken': box.accessToken,
          'x-operation-id': op.operationId,
        },
        body: op.body,
      })
      const text = await reply.text()
      if (reply.status !== 200) {
        lastFailure = `${reply.status}: ${text}`
        return undefined
      }
      return text
    } catch (error) {
      // The connection died with the process: retried after the restart.
      lastFailure = (error as Error).message
      return undefined
    }
  }
  const operations: SignOperation[] = c.cashboxes.map((_box, i) => ({
    cashbox: i,
    operationId: randomUUID(),
    body: c.startBody(i),
  }))
  try {
    server = await c.start()
    for (const op of operations) op.answer = await send(op)
    let kills = 0
    for (let cycle = 0; cycle < c.cycles; cycle++) {
      // Each cash box's receipts one after the other, the cash boxes at once, as tills send them.
      const fresh: SignOperation[] = []
      for (let n = 0; n < c.receiptsPerCycle; n++)
        for (let i = 0; i < c.cashboxes.length; i++)
          fresh.push({ cashbox: i, operationId: randomUUID(), body: c.saleBody(cycle, i, n) })
      operations.push(...fresh)
      const issuedBefore = c.issued()
      const tills = c.cashboxes.map(async (_box, i) => {
        for (const op of fresh.filter((o) => o.cashbox === i)) {
          op.answer = await send(op)
          if (op.answer === undefined) return
        }
      })
      while (c.issued() === issuedBefore) await new Promise((r) => setTimeout(r, 5))
      const { min, max } = c.killAfterMs
      await new Promise((r) => setTimeout(r, min + c.random() * (max - min)))
      process.kill((server as Server).pid, 'SIGKILL')
      kills += 1
      await Promise.all(tills)
      server = await c.start()
      await Promise.all(
        c.cashboxes.map(async (_box, i) => {
          for (const op of operations.filter((o) => o.cashbox === i && o.answer === undefined)) {
            op.answer = await send(op)
            assert.ok(
              op.answer,
              `operation ${op.operationId} answered after the restart: ${lastFailure}\n${server?.output.join('\n')}`,
            )
          }
        }),
      )
    }
    // Every operation once more: the same bytes.
    for (const op of operations) assert.equal(await send(op), op.answer, `replay of ${op.operationId}`)
    await (server as Server).stop()
    server = undefined
    return { operations, kills }
  } finally {
    if (server) process.kill(server.pid, 'SIGKILL')
  }
}

/**
 * The environment of the killed server: a fresh database of `engine` and a data folder, both removed
 * after the test.
 */
export async function killedServerEnv(
  t: { after(fn: () => Promise<void>): void },
  engine: EngineName,
  prefix: string,
): Promise<NodeJS.ProcessEnv> {
  const root = mkdtempSync(join(tmpdir(), `${prefix}-${engine}-`))
  const database = engine === 'postgres' ? await freshPostgresDatabase() : undefined
  t.after(async () => {
    await database?.drop()
    rmSync(root, { recursive: true, force: true })
  })
  const databaseUrl = database?.url ?? `sqlite:${join(root, 'data', 'fiscalbox.db')}`
  return nodeEnv(databaseUrl, newMasterKey(), join(root, 'data'))
}
