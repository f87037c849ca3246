import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { engines } from '../helpers/engines.ts'
import { csrfOf, type DashboardWorld, dashboardWorld, signIn } from './support.ts'

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()
const FORM = 'application/x-www-form-urlencoded'

for (const engine of await engines()) {
  describe(`dashboard over HTTP (${engine})`, () => {
    let world: DashboardWorld
    before(async () => {
      world = await dashboardWorld(engine, { authFailures: { burst: 3, perMinute: 0.001 } })
    })
    after(() => world?.close())

    test('pages need a session: without one they send the browser to the sign-in page', async () => {
      for (const url of ['/dashboard/cashboxes', '/dashboard/outbox', '/dashboard/exports']) {
        const reply = await world.harness.app.inject({ method: 'GET', url })
        assert.equal(reply.statusCode, 303, url)
        assert.equal(reply.headers.location, '/dashboard/login')
      }
    })

    test('the session cookie is HttpOnly, SameSite=Strict, scoped to /dashboard; a forged one is ignored', async () => {
      const { reply, cookie } = await signIn(world.harness.app, world.shop.email, world.shop.password)
      assert.equal(reply.statusCode, 303, reply.body)
      const set = [reply.headers['set-cookie']].flat().find((c) => c?.startsWith('fiscalbox_session='))
      assert.ok(set, 'a session cookie is set')
      assert.match(set, /HttpOnly/)
      assert.match(set, /SameSite=Strict/)
      assert.match(set, /Path=\/dashboard/)
      const page = await world.harness.app.inject({
        method: 'GET',
        url: '/dashboard/cashboxes',
        headers: { cookie },
      })
      assert.equal(page.statusCode, 200)
      const forged = cookie.replace(
        /fiscalbox_session=([^.;]+)\.(\d+)\./,
        (_m, id, expires) => `fiscalbox_session=${id}.${Number(expires) + 1}.`,
      )
      const refused = await world.harness.app.inject({
        method: 'GET',
        url: '/dashboard/cashboxes',
        headers: { cookie: forged },
      })
      assert.equal(refused.statusCode, 303)
    })

    test('a form without its CSRF token, or with another browser’s, is refused with 403 and does nothing', async () => {
      const { app } = world.harness
      const { cookie } = await signIn(app, world.shop.email, world.shop.password)
      const cashboxId = world.shop.pos.box.cashboxId
      const missing = await app.inject({
        method: 'POST',
        url: '/dashboard/exports',
        headers: { cookie, 'content-type': FORM },
        payload: form({ cashboxId, format: 'journal' }),
      })
      assert.equal(missing.statusCode, 403, missing.body)
      assert.match(missing.body, /security token/)
      const elsewhere = await signIn(app, world.other.email, world.other.password)
      const foreign = await app.inject({
        method: 'POST',
        url: '/dashboard/exports',
        headers: { cookie, 'content-type': FORM },
        payload: form({ cashboxId, format: 'journal', _csrf: elsewhere.csrf }),
      })
      assert.equal(foreign.statusCode, 403, foreign.body)
      const retry = await app.inject({
        method: 'POST',
        url: `/dashboard/outbox/${world.deadJobId}/retry`,
        headers: { cookie, 'content-type': FORM },
        payload: form({}),
      })
      assert.equal(retry.statusCode, 403)
      const exports = await app.inject({ method: 'GET', url: '/dashboard/exports', headers: { cookie } })
      assert.match(exports.body, /No exports yet/)
      const job = await world.harness.runtime.v1.jobStore.find(
        { accountId: world.shop.accountId },
        world.deadJobId,
      )
      assert.equal(job?.status, 'dead')
    })

    test("an operator sees only its account's cash boxes: another account's answers 404, as an unknown one", async () => {
      const { app } = world.harness
      const { cookie, csrf } = await signIn(app, world.shop.email, world.shop.password)
      const list = await app.inject({ method: 'GET', url: '/dashboard/cashboxes', headers: { cookie } })
      assert.ok(list.body.includes(world.shop.pos.box.cashboxId))
      assert.ok(!list.body.includes(world.other.pos.box.cashboxId))
      for (const url of [
        `/dashboard/cashboxes/${world.other.pos.box.cashboxId}`,
        `/dashboard/cashboxes/${world.other.pos.box.cashboxId}/closings`,
        `/dashboard/cashboxes/00000000-0000-4000-8000-0000000000ff`,
      ]) {
        const reply = await app.inject({ method: 'GET', url, headers: { cookie } })
        assert.equal(reply.statusCode, 404, url)
        assert.match(reply.body, /no such cash box in your account/)
      }
      const exported = await app.inject({
        method: 'POST',
        url: '/dashboard/exports',
        headers: { cookie, 'content-type': FORM },
        payload: form({ cashboxId: world.other.pos.box.cashboxId, format: 'journal', _csrf: csrf }),
      })
      assert.equal(exported.statusCode, 404)
      const otherSession = await signIn(app, world.other.email, world.other.password)
      const retry = await app.inject({
        method: 'POST',
        url: `/dashboard/outbox/${world.deadJobId}/retry`,
        headers: { cookie: otherSession.cookie, 'content-type': FORM },
        payload: form({ _csrf: otherSession.csrf }),
      })
      assert.equal(retry.statusCode, 404, 'the shop’s dead job is not the other account’s to retry')
    })

    test('the journal is searched by reference and date, and pages newest first', async () => {
      const { app } = world.harness
      const { cookie } = await signIn(app, world.shop.email, world.shop.password)
      const url = `/dashboard/cashboxes/${world.shop.pos.box.cashboxId}`
      const found = await app.inject({
        method: 'GET',
        url: `${url}?reference=Shop-0007`,
        headers: { cookie },
      })
      assert.equal(found.statusCode, 200)
      assert.match(found.body, /1 queue items found/)
      assert.ok(found.body.includes('Shop-0007'))
      const today = new Date().toISOString().slice(0, 10)
      const dated = await app.inject({
        method: 'GET',
        url: `${url}?from=${today}&to=${today}`,
        headers: { cookie },
      })
      assert.match(dated.body, /14 queue items found/)
      const none = await app.inject({ method: 'GET', url: `${url}?to=2000-01-01`, headers: { cookie } })
      assert.match(none.body, /0 queue items found/)
      const bad = await app.inject({ method: 'GET', url: `${url}?from=yesterday`, headers: { cookie } })
      assert.equal(bad.statusCode, 400)
      assert.match(bad.body, /querystring\.from/)
      const closings = await app.inject({ method: 'GET', url: `${url}/closings`, headers: { cookie } })
      assert.match(closings.body, /daily closing 1/)
      assert.ok(closings.body.includes('>12<'), 'the closing counts the twelve receipts')
    })

    test('sign-in locks an address out after failed attempts, even with the right password then', async () => {
      const { app } = world.harness
      for (let i = 0; i < 3; i++) {
        const { reply } = await signIn(app, world.other.email, 'wrong-password-wrong')
        assert.equal(reply.statusCode, 401)
        assert.match(reply.body, /e-mail or the password is wrong/)
      }
      const locked = await signIn(app, world.other.email, world.other.password)
      assert.equal(locked.reply.statusCode, 429)
      assert.match(locked.reply.body, /too many failed authentications/)
      assert.ok(Number(locked.reply.headers['retry-after']) > 0)
      assert.equal(
        [locked.reply.headers['set-cookie']].flat().some((c) => c?.startsWith('fiscalbox_session=')),
        false,
      )
    })
  })
}

describe('dashboard pages carry a CSRF token in every form', () => {
  test('csrfOf finds none in a page without forms', () => {
    assert.throws(() => csrfOf('<p>no form</p>'))
  })
})
