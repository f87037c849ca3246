import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { V1Runtime } from '../../v1-runtime.ts'
import { BatchParams, BatchRun, problems } from './schemas.ts'

const tags = ['transactions v1: retry queue']

/**
 * Batch windows as the account sees them: submissions held for a window (Bizkaia's daily LROE batch) can be
 * sent now instead of at the window, e.g. before closing the books or in a test environment.
 */
export function batchRoutes(v1: V1Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/batches/:window/run',
      {
        schema: {
          summary: 'Send the account held batch now (lroe: Bizkaia invoices and cancellations)',
          description:
            'Makes every submission of the account held for this window, in the environment of the API key, due now; the outbox workers send it as one batch per location. Submissions already sent are not affected.',
          tags,
          params: BatchParams,
          response: { 200: BatchRun, ...problems(400, 401, 403, 429) },
        },
      },
      async (request) => {
        const { account, environment } = request.caller
        const released = await v1.jobs.releaseWindow(
          { accountId: account.id, environment, groups: await v1.accounts.locationQueues(request.caller) },
          request.params.window,
        )
        return { window: request.params.window, environment, released }
      },
    )
  }
}
