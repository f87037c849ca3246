import type { Selectable } from 'kysely'
import type {
  AccountRecord,
  ApiKeyRecord,
  Environment,
  LocationRecord,
  WebhookDeliveryRecord,
  WebhookEndpointRecord,
  WebhookEvent,
} from '../../core/v1/model.ts'
import type { AccountStore, NewApiKey, WebhookStore } from '../../core/v1/ports.ts'
import type { Storage } from '../database.ts'
import type {
  AccountTable,
  ApiKeyTable,
  LocationTable,
  WebhookDeliveryTable,
  WebhookEndpointTable,
} from '../schema.ts'
import { GENESIS_HASH } from '../../core/journal-chain.ts'
import { readsOf } from './v1-reader.ts'
import { newestFirstPage } from './newest-first-page.ts'

const toAccount = (row: Selectable<AccountTable>): AccountRecord => ({
  id: row.id,
  name: row.name,
  billingEmail: row.billing_email ?? null,
  createdAt: row.created_at,
})

const toKey = (row: Selectable<ApiKeyTable>): ApiKeyRecord => ({
  id: row.id,
  accountId: row.account_id,
  environment: row.environment as Environment,
  keyHint: row.key_hint,
  name: row.name,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
})

const keyRow = (key: NewApiKey) => ({
  id: key.id,
  account_id: key.accountId,
  environment: key.environment,
  key_hash: key.keyHash,
  key_hint: key.keyHint,
  name: key.name,
  created_at: key.createdAt,
  revoked_at: null,
})

export const toLocation = (row: Selectable<LocationTable>): LocationRecord => ({
  id: row.id,
  accountId: row.account_id,
  name: row.name,
  country: row.country,
  countryConfig: JSON.parse(row.country_config) as Record<string, unknown>,
  active: Number(row.active) === 1,
  publicKey: row.public_key,
  createdAt: row.created_at,
  deactivatedAt: row.deactivated_at,
})

const toEndpoint = (row: Selectable<WebhookEndpointTable>): WebhookEndpointRecord => ({
  id: row.id,
  accountId: row.account_id,
  url: row.url,
  events: JSON.parse(row.events) as WebhookEvent[],
  active: Number(row.active) === 1,
  createdAt: row.created_at,
})

export const toDelivery = (row: Selectable<WebhookDeliveryTable>): WebhookDeliveryRecord => ({
  id: row.id,
  endpointId: row.endpoint_id,
  accountId: row.account_id,
  eventId: row.event_id,
  eventType: row.event_type,
  payload: row.payload,
  status: row.status as WebhookDeliveryRecord['status'],
  attempts: Number(row.attempts),
  lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
  lastError: row.last_error,
  createdAt: row.created_at,
  deliveredAt: row.delivered_at,
})

export function accountStore(storage: Storage): AccountStore {
  const db = readsOf(storage)
  return {
    createAccount: (account, key) =>
      storage.transact(async (trx) => {
        const inserted = await trx
          .insertInto('accounts')
          .values({
            id: account.id,
            name: account.name,
            billing_email: account.billingEmail,
            created_at: account.createdAt,
          })
          .onConflict((oc) => oc.column('billing_email').doNothing())
          .executeTakeFirst()
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return undefined
        await trx.insertInto('api_keys').values(keyRow(key)).execute()
        return account
      }),
    findAccount: async (id) => {
      const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst()
      return row ? toAccount(row) : undefined
    },
    findKeyByHash: async (hash) => {
      const row = await db.selectFrom('api_keys').selectAll().where('key_hash', '=', hash).executeTakeFirst()
      return row ? toKey(row) : undefined
    },
    insertKey: async (key) => {
      await storage.transact((trx) => trx.insertInto('api_keys').values(keyRow(key)).execute())
    },
    listKeys: async (accountId) =>
      (
        await db
          .selectFrom('api_keys')
          .selectAll()
          .where('account_id', '=', accountId)
          .orderBy('created_at', 'desc')
          .orderBy('id')
          .execute()
      ).map(toKey),
    revokeKey: (accountId, keyId, at) =>
      storage.transact(async (trx) => {
        const result = await trx
          .updateTable('api_keys')
          .set({ revoked_at: at })
          .where('id', '=', keyId)
          .where('account_id', '=', accountId)
          .where('revoked_at', 'is', null)
          .executeTakeFirst()
        return Number(result.numUpdatedRows) === 1
      }),
    rotateKey: (accountId, keyId, replacement) =>
      storage.transact(async (trx) => {
        const result = await trx
          .updateTable('api_keys')
          .set({ revoked_at: replacement.createdAt })
          .where('id', '=', keyId)
          .where('account_id', '=', accountId)
          .where('revoked_at', 'is', null)
          .executeTakeFirst()
        if (Number(result.numUpdatedRows) !== 1) return false
        await trx.insertInto('api_keys').values(keyRow(replacement)).execute()
        return true
      }),
    insertLocation: async (location) => {
      await storage.transact(async (trx) => {
        await trx
          .insertInto('locations')
          .values({
            id: location.id,
            account_id: location.accountId,
            name: location.name,
            country: location.country,
            country_config: JSON.stringify(location.countryConfig),
            active: 1,
            public_key: location.publicKey,
            private_key_encrypted: location.privateKeyEncrypted,
            created_at: location.createdAt,
            deactivated_at: null,
          })
          .execute()
        // The chain rows exist from the start: sealing only ever locks and updates them.
        await trx
          .insertInto('fiscal_chains')
          .values(
            (['test', 'live'] as const).map((environment) => ({
              location_id: location.id,
              environment,
              last_sequence: 0,
              last_hash: GENESIS_HASH,
              state: null,
            })),
          )
          .execute()
      })
    },
    listLocations: async (accountId, limit, offset) => {
      const [rows, count] = await Promise.all([
        db
          .selectFrom('locations')
          .selectAll()
          .where('account_id', '=', accountId)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(limit)
          .offset(offset)
          .execute(),
        db
          .selectFrom('locations')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('account_id', '=', accountId)
          .executeTakeFirstOrThrow(),
      ])
      return { data: rows.map(toLocation), total: Number(count.n) }
    },
    findLocation: async (accountId, id) => {
      const row = await db
        .selectFrom('locations')
        .selectAll()
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .executeTakeFirst()
      return row ? toLocation(row) : undefined
    },
    locationKey: async (locationId) => {
      const row = await db
        .selectFrom('locations')
        .select(['public_key', 'private_key_encrypted'])
        .where('id', '=', locationId)
        .executeTakeFirst()
      return row ? { publicKey: row.public_key, privateKeyEncrypted: row.private_key_encrypted } : undefined
    },
    deactivateLocation: (accountId, id, at) =>
      storage.transact(async (trx) => {
        await trx
          .updateTable('locations')
          .set({ active: 0, deactivated_at: at })
          .where('id', '=', id)
          .where('account_id', '=', accountId)
          .where('active', '=', 1)
          .execute()
        const row = await trx
          .selectFrom('locations')
          .selectAll()
          .where('id', '=', id)
          .where('account_id', '=', accountId)
          .executeTakeFirst()
        return row ? toLocation(row) : undefined
      }),
  }
}

export function webhookStore(storage: Storage): WebhookStore {
  const db = readsOf(storage)
  return {
    insertEndpoint: async (endpoint, secretEncrypted) => {
      await storage.transact((trx) =>
        trx
          .insertInto('webhook_endpoints')
          .values({
            id: endpoint.id,
            account_id: endpoint.accountId,
            url: endpoint.url,
            events: JSON.stringify(endpoint.events),
            secret_encrypted: secretEncrypted,
            active: 1,
            created_at: endpoint.createdAt,
          })
          .execute(),
      )
    },
    listEndpoints: async (accountId) =>
      (
        await db
          .selectFrom('webhook_endpoints')
          .selectAll()
          .where('account_id', '=', accountId)
          .where('active', '=', 1)
          .orderBy('created_at', 'desc')
          .orderBy('id')
          .execute()
      ).map(toEndpoint),
    findEndpoint: async (accountId, id) => {
      const row = await db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .executeTakeFirst()
      return row ? { ...toEndpoint(row), secretEncrypted: row.secret_encrypted } : undefined
    },
    deactivateEndpoint: (accountId, id) =>
      storage.transact(async (trx) => {
        const result = await trx
          .updateTable('webhook_endpoints')
          .set({ active: 0 })
          .where('id', '=', id)
          .where('account_id', '=', accountId)
          .where('active', '=', 1)
          .executeTakeFirst()
        return Number(result.numUpdatedRows) === 1
      }),
    listDeliveries: async (accountId, endpointId, limit, offset) => {
      const base = db
        .selectFrom('webhook_deliveries')
        .where('account_id', '=', accountId)
        .where('endpoint_id', '=', endpointId)
      const { rows, total } = await newestFirstPage(base, limit, offset)
      return { data: rows.map(toDelivery), total }
    },
    findDelivery: async (id) => {
      const row = await db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst()
      return row ? toDelivery(row) : undefined
    },
  }
}
