import { randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { openRuntime } from '../../../src/runtime.ts'
import { cliEnv, runCli, type Server } from '../../cli/cli-process.ts'
import type { OperationLog } from './operations.ts'
import { type Cashbox, cashboxHeaders, kindOf, startBody, WRITE_SURFACES } from './surfaces.ts'

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

/** Sends every cash box its start receipt (recorded as an operation like any other); SIGN DE targets need none. */
export async function startQueues(server: Server, cashboxes: Cashbox[], log: OperationLog): Promise<void> {
  for (const cashbox of cashboxes) {
    const kind = kindOf(cashbox)
    if (kind === 'DE') continue
    const surface = WRITE_SURFACES.find((s) => s.kind === kind)
    if (!surface) throw new Error(`no write surface for ${kind}`)
    const op = log.add(surface, cashbox, startBody(cashbox.cashboxId, kind))
    const outcome = await log.send(server.baseUrl, op)
    if (outcome.kind !== 'ok') throw new Error(`start receipt failed: ${JSON.stringify(outcome)}`)
  }
}

/** Austrian cash boxes, made in this process through the runtime; provisioned over HTTP by provisionAt. */
export async function createAtCashboxes(env: NodeJS.ProcessEnv, count: number): Promise<Cashbox[]> {
  const runtime = await openRuntime(runtimeConfig(env))
  try {
    const made: Cashbox[] = []
    for (let i = 0; i < count; i++)
      made.push({ ...(await runtime.cashboxes.create('AT', `Kasse ${i}`)), country: 'AT' })
    return made
  } finally {
    await runtime.close()
  }
}

/** PUT /at/v1/cashbox: a Kassen-ID, a generated AES key, a closed-system device. */
export async function provisionAt(baseUrl: string, cashboxes: Cashbox[]): Promise<void> {
  for (const cashbox of cashboxes.filter((c) => kindOf(c) === 'AT')) {
    const res = await fetch(`${baseUrl}/at/v1/cashbox`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...cashboxHeaders(cashbox) },
      body: JSON.stringify({
        kassenId: `KASSE-${cashbox.cashboxId.slice(0, 8)}`,
        companyId: 'U:ATU12345678',
        devices: [{ number: 0 }],
      }),
    })
    if (res.status !== 200) throw new Error(`AT provisioning: ${res.status} ${await res.text()}`)
  }
}

/**
 * SIGN DE targets: credentials made by `fiscalbox sign-de credentials create`, one TSS set up in the
 * documented order over HTTP, `clients` registered clients. Each client is a target of the SIGN DE surface.
 */
export async function createSignDeTargets(
  env: NodeJS.ProcessEnv,
  baseUrl: string,
  clients: number,
): Promise<Cashbox[]> {
  const made = await runCli(['sign-de', 'credentials', 'create', '--json'], env)
  if (made.code !== 0) throw new Error(`sign-de credentials create failed: ${made.stderr}`)
  const credentials = JSON.parse(made.stdout) as { api_key: string; api_secret: string }
  let token = ''
  const call = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${baseUrl}/api/v2${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    })
    const text = await res.text()
    if (res.status !== 200) throw new Error(`SIGN DE ${method} ${path}: ${res.status} ${text}`)
    return JSON.parse(text)
  }
  token = (await call('POST', '/auth', credentials)).access_token
  const tssId = randomUUID()
  const { admin_puk } = await call('PUT', `/tss/${tssId}`, {})
  await call('PATCH', `/tss/${tssId}`, { state: 'UNINITIALIZED' })
  await call('PATCH', `/tss/${tssId}/admin`, { admin_puk, new_admin_pin: '135792468' })
  await call('POST', `/tss/${tssId}/admin/auth`, { admin_pin: '135792468' })
  await call('PATCH', `/tss/${tssId}`, { state: 'INITIALIZED' })
  const targets: Cashbox[] = []
  for (let i = 0; i < clients; i++) {
    const clientId = randomUUID()
    await call('PUT', `/tss/${tssId}/client/${clientId}`, { serial_number: `POS-${i + 1}` })
    targets.push({
      cashboxId: `tss-${tssId}-client-${i + 1}`,
      accessToken: '',
      queueId: '',
      signDe: { tssId, clientId, token: () => token },
    })
  }
  await call('POST', `/tss/${tssId}/admin/logout`, {})
  return targets
}
