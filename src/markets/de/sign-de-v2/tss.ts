import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Runtime } from '../../../runtime.ts'
import { listQuery, lower } from './query.ts'
import {
  ListQuery,
  listOf,
  Metadata,
  MetadataPatch,
  Tss,
  TssDescription,
  Uuid,
  errorResponses,
} from './schemas.ts'
import { listView, tssView } from './views.ts'
import { deServicesOf } from '../services.ts'

const TssParams = Type.Object({ tss_id: Uuid })
const tags = ['SIGN DE v2: TSS']

export function tssRoutes(runtime: Runtime): FastifyPluginAsyncTypebox {
  const service = deServicesOf(runtime.marketFor).tss
  return async (app) => {
    app.put(
      '/tss/:tss_id',
      {
        schema: {
          tags,
          summary: 'Create a TSS (state CREATED); the answer carries admin_puk, shown only while CREATED',
          params: TssParams,
          body: Type.Object(
            {
              metadata: Type.Optional(Metadata),
              signature_algorithm: Type.Optional(
                Type.Union([Type.Literal('ecdsa-plain-SHA256'), Type.Literal('ecdsa-plain-SHA384')], {
                  description:
                    'fiscalbox extension: ecdsa-plain-SHA256 on P-256 (default) or ecdsa-plain-SHA384 on P-384',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          response: { 200: Tss, ...errorResponses(400, 401, 409) },
        },
      },
      async (request) => {
        const { tss, adminPuk } = await service.createTss(
          request.signDeCaller,
          lower(request.params.tss_id),
          {
            metadata: request.body.metadata,
            algorithm: request.body.signature_algorithm,
          },
        )
        return tssView(request.signDeCaller, tss, adminPuk)
      },
    )

    app.get(
      '/tss/:tss_id',
      {
        schema: {
          tags,
          summary: 'Retrieve a TSS',
          params: TssParams,
          response: { 200: Tss, ...errorResponses(401, 404) },
        },
      },
      async (request) =>
        tssView(
          request.signDeCaller,
          await service.getTss(request.signDeCaller, lower(request.params.tss_id)),
        ),
    )

    app.get(
      '/tss',
      {
        schema: {
          tags,
          summary: 'List TSS',
          querystring: ListQuery(['description', 'state', 'time_creation', 'time_init', 'time_disable']),
          response: { 200: listOf(Tss, 'TSS_LIST'), ...errorResponses(400, 401) },
        },
      },
      async (request) => {
        const page = await service.listTss(request.signDeCaller, listQuery(request.query, 'time_creation'))
        return listView(request.signDeCaller, 'TSS_LIST', {
          data: page.data.map((t) => tssView(request.signDeCaller, t)),
          count: page.count,
        })
      },
    )

    app.patch(
      '/tss/:tss_id',
      {
        schema: {
          tags,
          summary: 'Change state (UNINITIALIZED, INITIALIZED, DISABLED), description or metadata',
          params: TssParams,
          body: Type.Object(
            {
              state: Type.Optional(
                Type.Union([
                  Type.Literal('UNINITIALIZED'),
                  Type.Literal('INITIALIZED'),
                  Type.Literal('DISABLED'),
                ]),
              ),
              description: Type.Optional(TssDescription),
              metadata: Type.Optional(MetadataPatch),
            },
            { additionalProperties: false },
          ),
          response: { 200: Tss, ...errorResponses(400, 401, 404, 423) },
        },
      },
      async (request) =>
        tssView(
          request.signDeCaller,
          await service.updateTss(request.signDeCaller, lower(request.params.tss_id), request.body),
        ),
    )

    app.get(
      '/tss/:tss_id/metadata',
      {
        schema: {
          tags,
          summary: 'TSS metadata',
          params: TssParams,
          response: { 200: Metadata, ...errorResponses(401, 404) },
        },
      },
      async (request) => (await service.getTss(request.signDeCaller, lower(request.params.tss_id))).metadata,
    )
    app.patch(
      '/tss/:tss_id/metadata',
      {
        schema: {
          tags,
          summary: 'Update TSS metadata',
          params: TssParams,
          body: MetadataPatch,
          response: { 200: Metadata, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) =>
        (
          await service.updateTss(request.signDeCaller, lower(request.params.tss_id), {
            metadata: request.body,
          })
        ).metadata,
    )

    app.patch(
      '/tss/:tss_id/admin',
      {
        schema: {
          tags,
          summary: 'Set the admin PIN with the PUK (also unblocks a blocked PIN)',
          params: TssParams,
          body: Type.Object(
            {
              admin_puk: Type.String({ minLength: 10, maxLength: 100 }),
              new_admin_pin: Type.String({ minLength: 6, maxLength: 100 }),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({}), ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => {
        await service.changeAdminPin(
          request.signDeCaller,
          lower(request.params.tss_id),
          request.body.admin_puk,
          request.body.new_admin_pin,
        )
        return {}
      },
    )

    app.post(
      '/tss/:tss_id/admin/auth',
      {
        schema: {
          tags,
          summary: 'Admin login with the PIN (5 failures block it)',
          params: TssParams,
          body: Type.Object({ admin_pin: Type.String({ maxLength: 100 }) }, { additionalProperties: false }),
          response: { 200: Type.Object({}), ...errorResponses(400, 401, 404, 423) },
        },
      },
      async (request) => {
        await service.authenticateAdmin(
          request.signDeCaller,
          lower(request.params.tss_id),
          request.body.admin_pin,
        )
        return {}
      },
    )

    app.post(
      '/tss/:tss_id/admin/logout',
      {
        schema: {
          tags,
          summary: 'Admin logout (safe when nobody is logged in)',
          params: TssParams,
          body: Type.Optional(Type.Object({}, { additionalProperties: false })),
          response: { 200: Type.Object({}), ...errorResponses(401, 404) },
        },
      },
      async (request) => {
        await service.logoutAdmin(request.signDeCaller, lower(request.params.tss_id))
        return {}
      },
    )
  }
}
