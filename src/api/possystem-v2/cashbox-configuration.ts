import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Static, TObject } from 'typebox'
import type { CashboxRecord } from '../../core/ports.ts'
import { CashboxHeaders, problemResponses } from './schemas.ts'

type TypeboxApp = Parameters<FastifyPluginAsyncTypebox>[0]

/** A country's configuration of the cash box of the request's credentials: what its routes do and say. */
export interface CashboxConfiguration<Body extends TObject, View extends TObject> {
  tags: string[]
  /** e.g. "Configure the Spanish cash box: system, territory, issuer, series, environment" */
  putSummary: string
  /** when the configuration can change, and what a change after that is answered with */
  putDescription: string
  getSummary: string
  body: Body
  view: View
  configure(cashbox: CashboxRecord, body: Static<Body>): Promise<Static<View>>
  describe(cashbox: CashboxRecord): Promise<Static<View>>
}

/**
 * PUT and GET `/cashbox` of a country's surface (/es/v1, /it/v1): the app must have authenticated the
 * cash box (cashboxAuth), and `configure`/`describe` check its country.
 */
export function cashboxConfigurationRoutes<Body extends TObject, View extends TObject>(
  app: TypeboxApp,
  c: CashboxConfiguration<Body, View>,
): void {
  // As a plain object schema (and the body cast back below): TypeScript cannot resolve fastify's
  // reply and body types from generic ones.
  const response = { 200: c.view as TObject, ...problemResponses }
  app.put(
    '/cashbox',
    {
      schema: {
        tags: c.tags,
        summary: c.putSummary,
        description: c.putDescription,
        headers: CashboxHeaders,
        body: c.body,
        response,
      },
    },
    async (request) => c.configure(request.cashbox, request.body as Static<Body>),
  )
  app.get(
    '/cashbox',
    { schema: { tags: c.tags, summary: c.getSummary, headers: CashboxHeaders, response } },
    async (request) => c.describe(request.cashbox),
  )
}
