import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorCode, FiscalError } from '../../core/errors.ts'
import { isUuid } from '../../core/v1/accounts.ts'
import { jobStatsView, jobView } from '../../core/v1/views.ts'
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
        jobView(await v1.jobs.retryDead({ accountId: request.caller.account.id }, request.params.id)),
    )
  }
}
