import type { Kysely } from 'kysely'

/**
 * A submission waits for the open jobs of the earlier records of its chain (group key: location and
 * environment, or an ES cash box's queue): each attempt looks up the chain's first open job by group.
 * The group key leads, so that the claims (by kind, over every group) keep to jobs_due.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('jobs_group_open').on('jobs').columns(['group_key', 'kind', 'status']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_group_open').execute()
}
