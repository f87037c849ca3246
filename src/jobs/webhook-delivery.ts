import type { JobRecord } from '../core/outbox.ts'
import type { V1Unit, WebhookStore } from '../core/v1/ports.ts'
import { signatureHeader } from '../core/v1/webhook-signature.ts'
import type { Webhooks } from '../core/v1/webhooks.ts'
import type { JobHandler, JobOutcome } from './engine.ts'

export const WEBHOOK_JOB = 'webhook'

/**
 * Delivers one stored event body to one endpoint: POST with the signature headers, any 2xx is delivered.
 * Anything else (an error status, a refused connection, a timeout) is retried through the outbox; every
 * attempt's result is kept in the delivery log.
 */
export function webhookDeliveryHandler(deps: {
  webhooks: Webhooks
  deliveries: Pick<WebhookStore, 'findDelivery'>
  timeoutMs: number
}): JobHandler {
  async function deliver(job: JobRecord): Promise<JobOutcome> {
    const delivery = await deps.deliveries.findDelivery(job.subjectId)
    if (!delivery) return { kind: 'dead', error: 'the delivery is missing' }
    const target = await deps.webhooks.forDelivery(delivery.accountId, delivery.endpointId)
    if (!target?.endpoint.active) return { kind: 'dead', error: 'the webhook endpoint was removed' }
    const timestamp = Math.floor(Date.now() / 1000)
    let status: number | null = null
    let error: string
    try {
      const response = await fetch(target.endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'fiscalbox-webhooks/1',
          'x-fiscalbox-event': delivery.eventType,
          'x-fiscalbox-delivery': delivery.id,
          'x-fiscalbox-timestamp': String(timestamp),
          'x-fiscalbox-signature': signatureHeader(target.secret, timestamp, delivery.payload),
        },
        body: delivery.payload,
        signal: AbortSignal.timeout(deps.timeoutMs),
        redirect: 'manual',
      })
      status = response.status
      await response.body?.cancel()
      if (status >= 200 && status < 300) {
        return {
          kind: 'done',
          effects: (unit) =>
            unit.updateDelivery(delivery.id, {
              status: 'delivered',
              attempts: job.attempts,
              lastStatusCode: status,
              lastError: null,
              deliveredAt: new Date().toISOString(),
            }),
        }
      }
      error = `the endpoint answered ${status}`
    } catch (cause) {
      error = `delivery failed: ${(cause as Error).message}`
    }
    return {
      kind: 'retry',
      error,
      effects: (unit) =>
        unit.updateDelivery(delivery.id, {
          attempts: job.attempts,
          lastStatusCode: status,
          lastError: error,
        }),
    }
  }

  return {
    kind: WEBHOOK_JOB,
    async run(jobs) {
      const outcomes = new Map<string, JobOutcome>()
      // One endpoint per group: deliveries go out in order, one at a time, so a receiver is not flooded.
      for (const job of jobs) outcomes.set(job.id, await deliver(job))
      return outcomes
    },
    async onDead(unit: V1Unit, job: JobRecord, error: string) {
      await unit.updateDelivery(job.subjectId, { status: 'failed', attempts: job.attempts, lastError: error })
    },
    async onRevive(unit: V1Unit, job: JobRecord) {
      await unit.updateDelivery(job.subjectId, { status: 'pending' })
    },
  }
}
