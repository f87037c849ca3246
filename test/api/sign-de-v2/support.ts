import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { cliEnv, runCli } from '../../cli/cli-process.ts'
import type { Harness } from '../../helpers/harness.ts'

/** A POS's view of the SIGN DE API: JSON over HTTP with a Bearer token, nothing else. */
export interface SignDeClient {
  call(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Record<string, unknown>; raw: Buffer }>
  token: string
}

/** Credentials as an operator makes them: `fiscalbox sign-de credentials create --json` on the same database. */
export async function createCredentials(
  harness: Harness,
  env = 'LIVE',
): Promise<{ api_key: string; api_secret: string; organization_id: string }> {
  const result = await runCli(
    ['sign-de', 'credentials', 'create', '--json', '--env', env],
    cliEnv({ DATABASE_URL: harness.databaseUrl, FISCALBOX_DATA_DIR: harness.dataDir }),
  )
  assert.equal(result.code, 0, result.stderr)
  return JSON.parse(result.stdout)
}

export async function signDeClient(
  app: FastifyInstance,
  credentials: { api_key: string; api_secret: string },
): Promise<SignDeClient> {
  const auth = await app.inject({ method: 'POST', url: '/api/v2/auth', payload: credentials })
  assert.equal(auth.statusCode, 200, auth.body)
  const client: SignDeClient = {
    token: auth.json().access_token,
    async call(method, url, body, headers = {}) {
      const response = await app.inject({
        method: method as 'GET',
        url: `/api/v2${url}`,
        headers: { authorization: `Bearer ${client.token}`, ...headers },
        ...(body === undefined ? {} : { payload: body as object }),
      })
      const raw = response.rawPayload
      const json = /json/.test(String(response.headers['content-type'])) ? response.json() : undefined
      return { status: response.statusCode, body: json, headers: response.headers, raw }
    },
  }
  return client
}

/** The documented set-up order: PUT tss, UNINITIALIZED, PIN with PUK, admin login, INITIALIZED, client, logout. */
export async function setUpTss(api: SignDeClient, options: { clients?: number; pin?: string } = {}) {
  const tssId = randomUUID()
  const pin = options.pin ?? '123456'
  const created = await api.call('PUT', `/tss/${tssId}`, { metadata: { shop: 'Berlin 1' } })
  assert.equal(created.status, 200, JSON.stringify(created.body))
  assert.equal(created.body.state, 'CREATED')
  const puk = created.body.admin_puk as string
  assert.ok(puk.length >= 10)
  const uninit = await api.call('PATCH', `/tss/${tssId}`, { state: 'UNINITIALIZED' })
  assert.equal(uninit.status, 200, JSON.stringify(uninit.body))
  assert.equal(uninit.body.admin_puk, undefined)
  assert.equal(
    (await api.call('PATCH', `/tss/${tssId}/admin`, { admin_puk: puk, new_admin_pin: pin })).status,
    200,
  )
  assert.equal((await api.call('POST', `/tss/${tssId}/admin/auth`, { admin_pin: pin })).status, 200)
  const init = await api.call('PATCH', `/tss/${tssId}`, { state: 'INITIALIZED', description: 'Kasse 1' })
  assert.equal(init.status, 200, JSON.stringify(init.body))
  const clientIds: string[] = []
  for (let i = 1; i <= (options.clients ?? 1); i++) {
    const clientId = randomUUID()
    const client = await api.call('PUT', `/tss/${tssId}/client/${clientId}`, { serial_number: `POS-${i}` })
    assert.equal(client.status, 200, JSON.stringify(client.body))
    clientIds.push(clientId)
  }
  assert.equal((await api.call('POST', `/tss/${tssId}/admin/logout`, {})).status, 200)
  return { tssId, puk, pin, clientIds }
}

export const receipt = (gross: string, payment: 'CASH' | 'NON_CASH' = 'CASH') => ({
  standard_v1: {
    receipt: {
      receipt_type: 'RECEIPT',
      amounts_per_vat_rate: [{ vat_rate: 'NORMAL', amount: gross }],
      amounts_per_payment_type: [{ payment_type: payment, amount: gross }],
    },
  },
})
