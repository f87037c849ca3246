import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { openRuntime } from '../../../src/runtime.ts'
import { cliEnv, runCli, type Server } from '../../cli/cli-process.ts'
import type { OperationLog } from './operations.ts'
import { type Cashbox, startBody, WRITE_SURFACES } from './surfaces.ts'

/** The environment of one `fiscalbox serve` node (or CLI run) on a database shared by the suite. */
export function nodeEnv(
  databaseUrl: string,
  masterKey: string,
  dataDir: string,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  mkdirSync(dataDir, { recursive: true })
  return cliEnv({
    DATABASE_URL: databaseUrl,
    FISCALBOX_MASTER_KEY: masterKey,
    FISCALBOX_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    // Several suites share one PostgreSQL server's connections.
    PG_POOL_SIZE: '8',
    ...extra,
  })
}

export const newMasterKey = (): string => randomBytes(32).toString('hex')

/**
 * Creates cash boxes: the first with `fiscalbox cashbox create` (the real command), the others in this
 * process through the same runtime (one process start per cash box would cost seconds each here).
 */
export async function createCashboxes(env: NodeJS.ProcessEnv, count: number): Promise<Cashbox[]> {
  const first = await runCli(['cashbox', 'create', '--country', 'EU', '--label', 'till 0', '--json'], env)
  if (first.code !== 0) throw new Error(`cashbox create failed: ${first.stderr}`)
  const made: Cashbox[] = [JSON.parse(first.stdout) as Cashbox]
  const runtime = await openRuntime(runtimeConfig(env))
  try {
    for (let i = 1; i < count; i++) made.push(await runtime.cashboxes.create('EU', `till ${i}`))
  } finally {
    await runtime.close()
  }
  return made
}

/** The runtime configuration of a node environment, for work done in the test process. */
export const runtimeConfig = (env: NodeJS.ProcessEnv) => ({
  DATABASE_URL: env.DATABASE_URL as string,
  FISCALBOX_DATA_DIR: env.FISCALBOX_DATA_DIR as string,
  FISCALBOX_MASTER_KEY: env.FISCALBOX_MASTER_KEY as string,
  PG_POOL_SIZE: 4,
})

/** Sends every cash box its start receipt (recorded as an operation like any other). */
export async function startQueues(server: Server, cashboxes: Cashbox[], log: OperationLog): Promise<void> {
  const surface = WRITE_SURFACES[0]
  if (!surface) throw new Error('no write surface')
  for (const cashbox of cashboxes) {
    const op = log.add(surface, cashbox, startBody(cashbox.cashboxId))
    const outcome = await log.send(server.baseUrl, op)
    if (outcome.kind !== 'ok') throw new Error(`start receipt failed: ${JSON.stringify(outcome)}`)
  }
}
