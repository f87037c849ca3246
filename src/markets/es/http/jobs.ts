import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { CashboxRecord } from '../../../core/ports.ts'
import { jobStatsView, jobView } from '../../../core/v1/views.ts'
import { cashboxJobScope, ES_SUBMIT_JOB } from '../cashbox/ports.ts'
import type { Runtime } from '../../../runtime.ts'
import { CashboxHeaders, problemResponses } from '../../../api/possystem-v2/schemas.ts'
import { page } from '../../../api/transactions-v1/errors.ts'
import {
  BatchParams,
  IdParams,
  Job,
  JobList,
  JobQuery,
  JobStats,
  PageQuery,
} from '../../../api/transactions-v1/schemas.ts'

const tags = ['Spain (VERI*FACTU, TicketBAI)']

const JobsQuery = Type.Object({
  ...PageQuery.properties,
  status: JobQuery.properties.status,
})

/**
 * The outbox as an ES cash box sees it, with the cash box's own credentials (its account has no v1 API
 * key): its records' submission jobs, manual retry of a dead one, and its held LROE batch sent now. The
 * same queries and revive path as the transactions API's retry queue, scoped to the cash box's queue.
 */
export function esJobRoutes(
  runtime: Runtime,
  spanish: (cashbox: CashboxRecord) => CashboxRecord,
): FastifyPluginAsyncTypebox {
  const { v1 } = runtime
  return async (app) => {
    app.get(
      '/jobs/stats',
      {
        schema: {
          tags,
          summary: "Counts of the cash box's submission jobs by status",
          headers: CashboxHeaders,
          response: { 200: JobStats, ...problemResponses },
        },
      },
      async (request) => jobStatsView(await v1.jobStore.stats(cashboxJobScope(spanish(request.cashbox)))),
    )

    app.get(
      '/jobs',
      {
        schema: {
          tags,
          summary: "The cash box's submission jobs (es-pos-submit, one per record), newest first",
          description: 'subject_id is `{ftQueueId}:{seq}`: the record of GET /es/v1/records with that seq.',
          headers: CashboxHeaders,
          querystring: JobsQuery,
          response: { 200: JobList, ...problemResponses },
        },
      },
      async (request) => {
        const { limit, offset } = page(request.query)
        const { data, total } = await v1.jobStore.list(cashboxJobScope(spanish(request.cashbox)), {
          status: request.query.status,
          kind: ES_SUBMIT_JOB,
          limit,
          offset,
        })
        return { data: data.map(jobView), total, limit, offset }
      },
    )

    app.post(
      '/jobs/:id/retry',
      {
        schema: {
          tags,
          summary: 'Retry a dead submission job of the cash box now, with its attempts reset',
          description:
            'The record goes from failed_permanent back to pending and is sent again (looked up first if it may have reached the authority). 404 for a job of another cash box, 409 for a job that is not dead.',
          headers: CashboxHeaders,
          params: IdParams,
          response: { 200: Job, ...problemResponses },
        },
      },
      async (request) =>
        jobView(await v1.jobs.retryDead(cashboxJobScope(spanish(request.cashbox)), request.params.id)),
    )

    app.post(
      '/batches/:window/run',
      {
        schema: {
          tags,
          summary: "Send the cash box's held batch now (lroe: Bizkaia invoices and cancellations)",
          description:
            'Makes every record submission of the cash box held for this window due now; the outbox sends them as LROE batches (A00 invoices, AN0 cancellations). Records already sent and other cash boxes are not affected.',
          headers: CashboxHeaders,
          params: BatchParams,
          response: {
            200: Type.Object({
              window: BatchParams.properties.window,
              released: Type.Integer({ description: 'held record submissions of the cash box made due now' }),
            }),
            ...problemResponses,
          },
        },
      },
      async (request) => {
        const { window } = request.params
        const released = await v1.jobs.releaseWindow(cashboxJobScope(spanish(request.cashbox)), window)
        return { window, released }
      },
    )
  }
}
