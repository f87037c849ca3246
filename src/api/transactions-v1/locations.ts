import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { LocationRecord } from '../../core/v1/model.ts'
import { locationView } from '../../core/v1/views.ts'
import type { V1Runtime } from '../../v1-runtime.ts'
import { page } from './errors.ts'
import { CreateLocationBody, IdParams, Location, LocationList, PageQuery, problems } from './schemas.ts'

const tags = ['transactions v1: locations']

export function locationRoutes(v1: V1Runtime): FastifyPluginAsyncTypebox {
  const view = (location: LocationRecord) => locationView(location, v1.accounts.locationDetails(location))
  return async (app) => {
    app.post(
      '/locations',
      {
        schema: {
          summary: 'Create a merchant location',
          tags,
          body: CreateLocationBody,
          response: { 201: Location, ...problems(400, 401, 403, 429) },
        },
        config: { requestName: 'CreateLocationRequest' },
      },
      async (request, reply) => {
        const location = await v1.accounts.createLocation(request.caller, {
          name: request.body.name,
          country: request.body.country,
          countryConfig: request.body.country_config ?? {},
        })
        return reply.code(201).send(view(location))
      },
    )
    app.get(
      '/locations',
      {
        schema: {
          summary: 'List the locations',
          tags,
          querystring: PageQuery,
          response: { 200: LocationList, ...problems(400, 401, 403, 429) },
        },
      },
      async (request) => {
        const { limit, offset } = page(request.query)
        const { data, total } = await v1.accounts.listLocations(request.caller, limit, offset)
        return { data: data.map(view), total, limit, offset }
      },
    )
    app.get(
      '/locations/:id',
      {
        schema: {
          summary: 'Get a location',
          tags,
          params: IdParams,
          response: { 200: Location, ...problems(401, 403, 404, 429) },
        },
      },
      async (request) => view(await v1.accounts.location(request.caller, request.params.id)),
    )
    app.post(
      '/locations/:id/deactivate',
      {
        schema: {
          summary: 'Deactivate a location: new transactions are refused ("location is not active")',
          tags,
          params: IdParams,
          response: { 200: Location, ...problems(401, 403, 404, 429) },
        },
      },
      async (request) => view(await v1.accounts.deactivateLocation(request.caller, request.params.id)),
    )
  }
}
