import { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { CashboxRecord } from '../../../core/ports.ts'
import { atServicesOf } from '../index.ts'
import type { Runtime } from '../../../runtime.ts'
import { cashboxAuth, cashboxOfCountry } from '../../../api/possystem-v2/auth.ts'
import { CashboxHeaders, problemResponses } from '../../../api/possystem-v2/schemas.ts'
import { sendJsonText } from '../../../api/send-json.ts'
import {
  AddDeviceBody,
  CashboxSummary,
  Dep7Query,
  Device,
  DeviceStatusBody,
  ProvisionBody,
} from './schemas.ts'

const austrian = (cashbox: CashboxRecord): string =>
  cashboxOfCountry(cashbox, 'AT', '/at/v1', 'Austrian').queueId

const tags = ['Austria (RKSV)']

/**
 * Austria: provisioning (Kassen-ID, AES key, signature devices), device status and the DEP7 export, for
 * the cash box of the request's credentials. See docs/country-at.md.
 */
export function atApi(runtime: Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    const at = atServicesOf(runtime.marketFor)
    app.decorateRequest('cashbox', null as never)
    app.addHook('onRequest', cashboxAuth(runtime))

    app.put(
      '/cashbox',
      {
        schema: {
          tags,
          summary: 'Provision the Austrian cash box: Kassen-ID, AES key and signature devices (once)',
          headers: CashboxHeaders,
          body: ProvisionBody,
          response: { 200: CashboxSummary, ...problemResponses },
        },
      },
      async (request) => at.provisioning.provision(austrian(request.cashbox), request.body),
    )

    app.get(
      '/cashbox',
      {
        schema: {
          tags,
          summary: 'The Austrian configuration of the cash box (no secrets) and its devices',
          headers: CashboxHeaders,
          response: { 200: CashboxSummary, ...problemResponses },
        },
      },
      async (request) => at.provisioning.describe(austrian(request.cashbox)),
    )

    app.post(
      '/signature-devices',
      {
        schema: {
          tags,
          summary: 'Add a signature device (e.g. a backup)',
          headers: CashboxHeaders,
          body: AddDeviceBody,
          response: { 200: Device, ...problemResponses },
        },
      },
      async (request) => {
        const { companyId, ...spec } = request.body
        return at.provisioning.addDevice(austrian(request.cashbox), spec, companyId)
      },
    )

    app.put(
      '/signature-devices/:number/status',
      {
        schema: {
          tags,
          summary: 'Report a signature device out of service or back in service',
          description:
            'While the device a receipt uses is out of service the receipt is answered with "Sicherheitseinrichtung ausgefallen" (ftState 0x2); after the device is back, a zero receipt (0x2000) ends the outage.',
          headers: CashboxHeaders,
          params: Type.Object({
            number: Type.String({ pattern: '^\\d{1,3}$', description: 'device number' }),
          }),
          body: DeviceStatusBody,
          response: { 200: Device, ...problemResponses },
        },
      },
      async (request) =>
        at.provisioning.setInService(
          austrian(request.cashbox),
          Number(request.params.number),
          request.body.inService,
        ),
    )

    app.get(
      '/dep7',
      {
        schema: {
          tags,
          summary: 'DEP7 export (Datenerfassungsprotokoll) of the cash box, optionally for a period',
          headers: CashboxHeaders,
          querystring: Dep7Query,
          response: {
            200: Type.Object({ 'Belege-Gruppe': Type.Array(Type.Unknown()) }),
            ...problemResponses,
          },
        },
      },
      async (request, reply) => {
        const queueId = austrian(request.cashbox)
        const chunks = at.dep7.chunks(queueId, request.query)
        // The first chunk checks the cash box before the status line is sent.
        const first = await chunks.next()
        const rest = async function* () {
          if (!first.done) yield first.value
          yield* chunks
        }
        return sendJsonText(reply, Readable.from(rest()))
      },
    )
  }
}
