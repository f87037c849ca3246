import type { ModuleDatabase } from '../../module.ts'
import type { CredentialStore } from '../credentials.ts'
import { deSecretStore } from './secrets.ts'
import type { DeTables } from './tables.ts'

export function deCredentialStore(database: ModuleDatabase<DeTables>): CredentialStore {
  const { db } = database
  return {
    async insert(c) {
      await database.transact((trx) =>
        trx
          .insertInto('de_api_credentials')
          .values({
            api_key: c.apiKey,
            secret_hash: c.secretHash,
            organization_id: c.organizationId,
            env: c.env,
            created_at: c.createdAt,
          })
          .execute(),
      )
    },
    async find(apiKey) {
      const row = await db
        .selectFrom('de_api_credentials')
        .selectAll()
        .where('api_key', '=', apiKey)
        .executeTakeFirst()
      return row
        ? {
            apiKey: row.api_key,
            secretHash: row.secret_hash,
            organizationId: row.organization_id,
            env: row.env,
            createdAt: row.created_at,
          }
        : undefined
    },
    async insertRefreshToken(tokenHash, apiKey, expiresAt) {
      await database.transact((trx) =>
        trx
          .insertInto('de_api_refresh_tokens')
          .values({ token_hash: tokenHash, api_key: apiKey, expires_at: expiresAt })
          .execute(),
      )
    },
    async takeRefreshToken(tokenHash) {
      // One statement: of two requests presenting the same token at once, only one gets the row.
      const row = await database.transact((trx) =>
        trx
          .deleteFrom('de_api_refresh_tokens')
          .where('token_hash', '=', tokenHash)
          .returning(['api_key', 'expires_at'])
          .executeTakeFirst(),
      )
      return row ? { apiKey: row.api_key, expiresAt: Number(row.expires_at) } : undefined
    },
    ...deSecretStore(database),
  }
}
