import type { Kysely } from 'kysely'

/**
 * A submission waits for the open jobs of the earlier records of its chain (group key: location and
 * environment, or an ES cash box's queue): each attempt looks up the chain's first open job by group.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('jobs_group_open').on('jobs').columns(['kind', 'group_key', 'status']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_group_open').execute()
}
