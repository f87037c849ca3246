import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import type { CredentialRecord, CredentialStore } from '../../../src/markets/de/credentials.ts'
import type { InstallationSecrets } from '../../../src/markets/de/tss/ports.ts'
import type { Storage } from '../../../src/storage/database.ts'
import { deCredentialStore } from '../../../src/markets/de/store/credentials.ts'
import { tssStore } from '../../../src/markets/de/store/tss.ts'
import { moduleDatabase } from '../../../src/storage/module-database.ts'
import { type Target, runContract } from './runner.ts'

/**
 * The German API credentials (markets/de/credentials.ts) and the installation secrets, which two stores
 * implement on one table: the credential store, and the TSS store (reading through its own connection).
 */
const build = (storage: Storage): CredentialStore => deCredentialStore(moduleDatabase(storage))
const buildTssSecrets = (storage: Storage): InstallationSecrets => tssStore(moduleDatabase(storage))

const credential = (): CredentialRecord => ({
  apiKey: `key-${randomUUID()}`,
  secretHash: 'a'.repeat(64),
  organizationId: randomUUID(),
  env: 'TEST',
  createdAt: '2026-03-01T08:00:00.000Z',
})

function secretsSuite(t: Target<InstallationSecrets>) {
  describe('installation secrets', () => {
    it('putSecretIfAbsent stores once and answers the stored secret', async () => {
      const name = `secret-${randomUUID()}`
      assert.equal(await t.store.secret(name), undefined)
      assert.deepEqual(await t.store.putSecretIfAbsent(name, 'public', 'sealed'), {
        publicPart: 'public',
        sealed: 'sealed',
      })
      assert.deepEqual(await t.store.putSecretIfAbsent(name, 'other', 'other'), {
        publicPart: 'public',
        sealed: 'sealed',
      })
      assert.deepEqual(await t.store.secret(name), { publicPart: 'public', sealed: 'sealed' })
    })

    it('two nodes racing to create a secret both get the one that was stored', async () => {
      const name = `secret-${randomUUID()}`
      const [a, b] = await Promise.all([
        t.store.putSecretIfAbsent(name, 'a', 'sealed a'),
        t.build().putSecretIfAbsent(name, 'b', 'sealed b'),
      ])
      assert.deepEqual(a, b)
      assert.deepEqual(await t.store.secret(name), a)
    })
  })
}

await runContract('InstallationSecrets of the credential store', { build }, secretsSuite)
await runContract(
  'InstallationSecrets of the TSS store',
  { build: buildTssSecrets, preparedPath: true },
  secretsSuite,
)

await runContract('CredentialStore', { build }, (t) => {
  it('stores a credential and finds it by its API key', async () => {
    const record = credential()
    await t.store.insert(record)
    assert.deepEqual(await t.store.find(record.apiKey), record)
    assert.equal(await t.store.find('unknown'), undefined)
  })

  it('refuses a second credential with the same API key', async () => {
    const record = credential()
    await t.store.insert(record)
    await assert.rejects(t.store.insert({ ...record, secretHash: 'b'.repeat(64) }))
    assert.equal((await t.store.find(record.apiKey))?.secretHash, record.secretHash)
  })

  it('stores refresh tokens by hash, once, and only for a known API key; a token is taken once', async () => {
    const record = credential()
    await t.store.insert(record)
    const hash = randomUUID()
    await t.store.insertRefreshToken(hash, record.apiKey, 1_900_000_000)
    await assert.rejects(t.store.insertRefreshToken(hash, record.apiKey, 1))
    await assert.rejects(t.store.insertRefreshToken(randomUUID(), 'no such key', 1))
    const taken = await Promise.all([t.store.takeRefreshToken(hash), t.store.takeRefreshToken(hash)])
    assert.deepEqual(
      taken.filter((found) => found !== undefined),
      [{ apiKey: record.apiKey, expiresAt: 1_900_000_000 }],
      'of two takes at once, one gets the token',
    )
    assert.equal(await t.store.takeRefreshToken(hash), undefined)
    assert.equal(await t.store.takeRefreshToken('unknown'), undefined)
  })
})
