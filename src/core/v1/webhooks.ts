import { randomUUID } from 'node:crypto'
import { ErrorCode, FiscalError, invalid } from '../errors.ts'
import type { MasterKey } from '../secrets.ts'
import { isUuid, type Caller } from './accounts.ts'
import { WEBHOOK_EVENTS, type WebhookEndpointRecord, type WebhookEvent } from './model.ts'
import type { WebhookStore } from './ports.ts'
import { newWebhookSecret } from './webhook-signature.ts'

const notFound = () => new FiscalError(ErrorCode.NotFound, 'webhook endpoint not found')

/** Per-account webhook endpoints. Their secrets are sealed by the master key: they sign every delivery. */
export class Webhooks {
  constructor(
    private readonly store: WebhookStore,
    private readonly master: MasterKey,
  ) {}

  async create(caller: Caller, url: string, events: string[] | undefined) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw invalid('url', 'must be an absolute http(s) URL')
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
      throw invalid('url', 'must be an absolute http(s) URL')
    const chosen = events ?? [...WEBHOOK_EVENTS]
    for (const event of chosen) {
      if (!(WEBHOOK_EVENTS as readonly string[]).includes(event)) {
        throw invalid('events', `must list events among ${WEBHOOK_EVENTS.join(', ')}`)
      }
    }
    if (chosen.length === 0) throw invalid('events', 'must list at least one event')
    const secret = newWebhookSecret()
    const endpoint: WebhookEndpointRecord = {
      id: randomUUID(),
      accountId: caller.account.id,
      url: parsed.toString(),
      events: [...new Set(chosen)] as WebhookEvent[],
      active: true,
      createdAt: new Date().toISOString(),
    }
    await this.store.insertEndpoint(endpoint, this.master.encrypt(Buffer.from(secret, 'utf8')))
    return { endpoint, secret }
  }

  list(caller: Caller) {
    return this.store.listEndpoints(caller.account.id)
  }

  async remove(caller: Caller, id: string): Promise<void> {
    if (!isUuid(id) || !(await this.store.deactivateEndpoint(caller.account.id, id))) throw notFound()
  }

  async deliveries(caller: Caller, id: string, limit: number, offset: number) {
    const endpoint = isUuid(id) ? await this.store.findEndpoint(caller.account.id, id) : undefined
    if (!endpoint) throw notFound()
    return this.store.listDeliveries(caller.account.id, id, limit, offset)
  }

  /** The endpoint and its secret in clear, for the delivery worker only. */
  async forDelivery(accountId: string, endpointId: string) {
    const endpoint = await this.store.findEndpoint(accountId, endpointId)
    if (!endpoint) return undefined
    return { endpoint, secret: this.master.decrypt(endpoint.secretEncrypted).toString('utf8') }
  }
}
