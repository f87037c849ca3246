import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorCode, FiscalError } from '../../core/errors.ts'
import { isUuid } from '../../core/v1/accounts.ts'
import type { JobRecord } from '../../core/v1/model.ts'
import type { JobScope, JobStats as JobCounts } from '../../core/v1/ports.ts'
import { jobView } from '../../core/v1/views.ts'
import type { V1Runtime } from '../../v1-runtime.ts'
import { page } from './errors.ts'
import { IdParams, Job, JobList, JobQuery, JobStats, problems } from './schemas.ts'

const tags = ['transactions v1: retry queue']

/** The outbox as the account sees it: counts, the jobs (dead ones first of interest), manual retry. */
export function retryQueueRoutes(v1: V1Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/retry-queue/stats',
      {
        schema: {
          summary: 'Counts of the account jobs by status and kind',
          tags,
          response: { 200: JobStats, ...problems(401, 403, 429) },
        },
      },
      async (request) => jobStatsView(await v1.jobStore.stats({ accountId: request.caller.account.id })),
    )
    app.get(
      '/retry-queue',
      {
        schema: {
          summary: 'List the account jobs',
          tags,
          querystring: JobQuery,
          response: { 200: JobList, ...problems(400, 401, 403, 429) },
        },
      },
      async (request) => {
        const { limit, offset } = page(request.query)
        const { data, total } = await v1.jobStore.list(
          { accountId: request.caller.account.id },
          {
            status: request.query.status,
            kind: request.query.kind,
            limit,
            offset,
          },
        )
        return { data: data.map(jobView), total, limit, offset }
      },
    )
    app.get(
      '/retry-queue/:id',
      {
        schema: {
          summary: 'Get a job',
          tags,
          params: IdParams,
          response: { 200: Job, ...problems(401, 403, 404, 429) },
        },
      },
      async (request) => {
        const job = isUuid(request.params.id)
          ? await v1.jobStore.find({ accountId: request.caller.account.id }, request.params.id)
          : undefined
        if (!job) throw new FiscalError(ErrorCode.NotFound, 'job not found')
        return jobView(job)
      },
    )
    app.post(
      '/retry-queue/:id/retry',
      {
        schema: {
          summary: 'Retry a dead job now, with its attempts reset',
          tags,
          params: IdParams,
          response: { 200: Job, ...problems(401, 403, 404, 409, 429) },
        },
      },
      async (request) =>
        jobView(await retryDeadJob(v1, { accountId: request.caller.account.id }, request.params.id)),
    )
  }
}

/** The retry queue's counts as the API shows them (v1 and the ES cash boxes' /es/v1/jobs). */
export const jobStatsView = (stats: JobCounts) => ({
  ...stats.byStatus,
  total: Object.values(stats.byStatus).reduce((a, b) => a + b, 0),
  by_kind: stats.byKind,
  oldest_due_at: stats.oldestDueAt === null ? null : new Date(stats.oldestDueAt).toISOString(),
})

/** Manual retry of a dead job of the scope: 404 outside the scope, 409 when the job is not dead. */
export async function retryDeadJob(v1: V1Runtime, scope: JobScope, id: string): Promise<JobRecord> {
  const existing = isUuid(id) ? await v1.jobStore.find(scope, id) : undefined
  if (!existing) throw new FiscalError(ErrorCode.NotFound, 'job not found')
  const revived = await v1.jobs.revive(scope, id)
  if (!revived)
    throw new FiscalError(ErrorCode.Conflict, `job is ${existing.status}, only a dead job can be retried`)
  return revived
}
