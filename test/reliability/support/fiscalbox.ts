import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { cliEnv, runCli, type Server, startServer } from '../../cli/cli-process.ts'
import { OperationLog } from './operations.ts'
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

/** Creates cash boxes with the CLI, two processes at a time. */
export async function createCashboxes(env: NodeJS.ProcessEnv, count: number): Promise<Cashbox[]> {
  const made: Cashbox[] = []
  for (let i = 0; i < count; i += 2) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(2, count - i) }, (_, j) =>
        runCli(['cashbox', 'create', '--country', 'EU', '--label', `till ${i + j}`, '--json'], env),
      ),
    )
    for (const result of batch) {
      if (result.code !== 0) throw new Error(`cashbox create failed: ${result.stderr}`)
      made.push(JSON.parse(result.stdout) as Cashbox)
    }
  }
  return made
}

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

export { OperationLog, type Server, startServer }
export const dataDirOf = (root: string, name: string): string => join(root, name)
