import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DEFAULT_ACCOUNT_ID } from '../../src/core/cashboxes.ts'
import { CredentialInventory, type HeldCredential } from '../../src/core/credentials.ts'

const DAY = 86_400_000
const NOW = Date.parse('2026-12-07T12:00:00.000Z')
const ACCOUNT = '11111111-1111-4111-8111-111111111111'

const held = (
  holder: string,
  notAfter: number | null,
  cashboxId: string | null = 'box-1',
): HeldCredential => ({
  country: 'AT',
  kind: notAfter === null ? 'key' : 'certificate',
  use: 'signature device certificate (AT1)',
  holder,
  cashboxId,
  subject: `CN=${holder}`,
  issuer: notAfter === null ? null : 'CN=issuer',
  serial: null,
  notBefore: null,
  notAfter: notAfter === null ? null : new Date(notAfter),
})

const inventory = (credentials: HeldCredential[], accounts: Record<string, string> = { 'box-1': ACCOUNT }) =>
  new CredentialInventory(
    [{ credentials: async () => credentials }],
    async () => new Map(Object.entries(accounts)),
    () => NOW,
  )

describe('CredentialInventory', () => {
  test('expiring(): within 30 days (the 30th day included) or expired, with whole days left', async () => {
    const all = inventory([
      held('far', NOW + 400 * DAY),
      held('just outside', NOW + 30 * DAY + 1),
      held('on the 30th day', NOW + 30 * DAY),
      held('in 9.5 days', NOW + 9.5 * DAY),
      held('within the hour', NOW + 3_600_000),
      held('an hour ago', NOW - 3_600_000),
      held('last year', NOW - 365 * DAY),
      held('a key without end', null),
    ])
    const warnings = all.expiring(await all.list())
    assert.deepEqual(
      warnings.map((w) => [w.credential.holder, w.daysLeft]),
      [
        ['last year', -365],
        ['an hour ago', -1],
        ['within the hour', 0],
        ['in 9.5 days', 9],
        ['on the 30th day', 30],
      ],
    )
  })

  test('expiring() takes another period when asked', async () => {
    const all = inventory([held('in 9.5 days', NOW + 9.5 * DAY), held('in 20 days', NOW + 20 * DAY)])
    assert.deepEqual(
      all.expiring(await all.list(), 10).map((w) => w.credential.holder),
      ['in 9.5 days'],
    )
  })

  test('list(): soonest expiry first, keys without one last', async () => {
    const all = inventory([held('key', null), held('late', NOW + 90 * DAY), held('soon', NOW + DAY)])
    assert.deepEqual(
      (await all.list()).map((c) => c.holder),
      ['soon', 'late', 'key'],
    )
  })

  test("a credential is its cash box's account's; the installation's are the local account's", async () => {
    const all = inventory([
      held('of box 1', NOW + DAY, 'box-1'),
      held('of the installation', NOW + DAY, null),
      held('of a cash box that is not there', NOW + DAY, 'gone'),
    ])
    assert.deepEqual(
      (await all.list()).map((c) => [c.holder, c.accountId]),
      [
        ['of box 1', ACCOUNT],
        ['of the installation', DEFAULT_ACCOUNT_ID],
      ],
    )
    assert.deepEqual(
      (await all.ofAccount(ACCOUNT)).map((c) => c.holder),
      ['of box 1'],
    )
    assert.deepEqual(await all.ofAccount('22222222-2222-4222-8222-222222222222'), [])
  })
})
