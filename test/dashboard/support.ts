import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { type EngineName } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { Pos, RECEIPT_CASE, receipt, specialReceipt } from '../api/support.ts'
import { AT_CASE, AtPos, atReceipt } from '../markets/at/support.ts'
import { DE_CASE, DePos, deReceipt, VAT } from '../markets/de/support.ts'
import { runCli } from '../cli/cli-process.ts'
import { bearer, createTransaction, eventually, newAccount, newLocation, sale } from '../api-v1/support.ts'

/** A port nothing listens on: every webhook delivery to it fails at once. */
const NOWHERE = 'http://127.0.0.1:9/hook'

export interface Tenant {
  accountId: string
  apiKey: string
  email: string
  password: string
  pos: Pos
  references: string[]
}

export interface DashboardWorld {
  harness: Harness
  /** The tenant whose operator the tests sign in as: cash box with receipts and a closing, a dead job. */
  shop: Tenant
  /** Another account, whose cash box the shop's operator must never see. */
  other: Tenant
  deadJobId: string
  close(): Promise<void>
}

async function tenant(harness: Harness, name: string, receipts: number): Promise<Tenant> {
  const { app, runtime } = harness
  const { key, accountId } = await newAccount(app)
  const pos = new Pos(app, await runtime.cashboxes.create('EU', `${name} till 1`, accountId))
  await pos.signOk(specialReceipt(RECEIPT_CASE.start))
  const references: string[] = []
  for (let i = 1; i <= receipts; i++) {
    const reference = `${name}-${String(i).padStart(4, '0')}`
    await pos.signOk(receipt({ reference, charges: [{ amount: 10 + i, vat: 20 }] }))
    references.push(reference)
  }
  const email = `${name.toLowerCase()}@example.com`
  const password = `${name}-correct-horse-battery`
  await runtime.operators.create(accountId, email, password)
  return { accountId, apiKey: key, email, password, pos, references }
}

/**
 * Two accounts on a real server (routes, core, storage) with its outbox workers running. The shop has a
 * POS cash box with receipts and a daily closing, a /v1 location with a transaction, and a webhook to a
 * closed port whose delivery is dead after its one attempt.
 */
export async function dashboardWorld(
  engine: EngineName,
  options: { authFailures?: { burst: number; perMinute: number } } = {},
): Promise<DashboardWorld> {
  const harness = await startHarness(engine, {
    v1: { webhookMaxAttempts: 1, engine: { pollMs: 10, backoffBaseMs: 10, backoffMaxMs: 50 } },
    ...(options.authFailures ? { authFailures: options.authFailures } : {}),
  })
  harness.runtime.v1.start()
  const shop = await tenant(harness, 'Shop', 12)
  await shop.pos.signOk(specialReceipt(RECEIPT_CASE.daily))
  const other = await tenant(harness, 'Other', 2)
  const app: FastifyInstance = harness.app
  const hook = await app.inject({
    method: 'POST',
    url: '/v1/webhooks',
    headers: bearer(shop.apiKey),
    payload: { url: NOWHERE, events: ['fiscalization.completed'] },
  })
  assert.equal(hook.statusCode, 201, hook.body)
  const location = await newLocation(app, shop.apiKey)
  const created = await createTransaction(app, shop.apiKey, sale(location.id))
  assert.equal(created.statusCode < 300, true, created.body)
  const dead = await eventually(
    () =>
      harness.runtime.v1.jobStore.list(
        { accountId: shop.accountId },
        { status: 'dead', limit: 10, offset: 0 },
      ),
    (page) => page.total > 0,
    'the webhook delivery to a closed port to be dead',
  )
  return {
    harness,
    shop,
    other,
    deadJobId: (dead.data[0] as { id: string }).id,
    close: () => harness.close(),
  }
}

/** The session cookie and the CSRF pair of a browser that loaded the sign-in page and signed in. */
export interface Signed {
  cookie: string
  csrf: string
}

const cookiesOf = (setCookie: string | string[] | undefined): string[] =>
  (Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []).map((c) => c.split(';')[0] as string)

export const csrfOf = (html: string): string => {
  const match = /name="_csrf" value="([^"]+)"/.exec(html)
  assert.ok(match, 'the page has a form with a CSRF token')
  return match[1] as string
}

/** GET the sign-in page (for its CSRF cookie and token), then POST the credentials as a form. */
export async function signIn(app: FastifyInstance, email: string, password: string) {
  const form = await app.inject({ method: 'GET', url: '/dashboard/login' })
  const jar = cookiesOf(form.headers['set-cookie'])
  const token = csrfOf(form.body)
  const reply = await app.inject({
    method: 'POST',
    url: '/dashboard/login',
    headers: { cookie: jar.join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ email, password, _csrf: token }).toString(),
  })
  const cookies = [...jar, ...cookiesOf(reply.headers['set-cookie'])]
  return { reply, cookie: cookies.join('; '), csrf: token }
}

/** An Austrian cash box of the account: provisioned with a closed-system device, started, three sales. */
export async function austrianCashbox(harness: Harness, accountId: string, label: string): Promise<AtPos> {
  const pos = new AtPos(harness.app, await harness.runtime.cashboxes.create('AT', label, accountId))
  await pos.provision({
    kassenId: `KASSE-${pos.box.cashboxId.slice(0, 8)}`,
    aesKey: 'WQRtiiya3hYh/Uz44Bv3x8ETl1nrH6nCdErn69g5/lU=',
    companyId: 'U:ATU12345678',
    devices: [{ number: 0 }],
  })
  const moment = new Date().toISOString()
  await pos.signOk(atReceipt({ reference: `${label}-start`, moment, caseCode: AT_CASE.start }))
  for (let i = 1; i <= 3; i++)
    await pos.signOk(
      atReceipt({
        reference: `${label}-${i}`,
        moment,
        caseCode: AT_CASE.pos,
        sets: [100n * BigInt(i), 0n, 0n, 0n, 0n],
      }),
    )
  return pos
}

/** A German cash box of the account: its TSS created by the start receipt, two sales. */
export async function germanCashbox(harness: Harness, accountId: string, label: string): Promise<DePos> {
  const pos = new DePos(harness.app, await harness.runtime.cashboxes.create('DE', label, accountId))
  await pos.signOk(deReceipt(DE_CASE.start))
  for (const amount of ['11.90', '3.00'])
    await pos.signOk(deReceipt(DE_CASE.posImplicit, [{ amount, vat: VAT.normal }], [{ amount }]))
  return pos
}

/**
 * An Austrian cash box's cryptographicMaterialContainer.json written into `dir` by `fiscalbox export dep7
 * --keys`, as an auditor gets it: `fiscalbox verify --keys` needs it for a DEP7 export. Returns its path.
 */
export async function dep7KeysFromCli(
  env: NodeJS.ProcessEnv,
  cashboxId: string,
  dir: string,
): Promise<string> {
  const keys = join(dir, 'keys.json')
  const exported = await runCli(
    ['export', 'dep7', '--cashbox', cashboxId, '--out', join(dir, 'cli-dep7.json'), '--keys', keys],
    env,
  )
  assert.equal(exported.code, 0, exported.stderr)
  return keys
}
