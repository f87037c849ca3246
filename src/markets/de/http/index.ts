import { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { CashboxRecord } from '../../../core/ports.ts'
import { dsfinvkTar } from '../dsfinvk/archive.ts'
import { cashboxTssStatus, reportCashboxTss } from '../market/cashbox-tss.ts'
import type { Runtime } from '../../../runtime.ts'
import { cashboxAuth, cashboxOfCountry } from '../../../api/possystem-v2/auth.ts'
import { CashboxHeaders, problemResponses } from '../../../api/possystem-v2/schemas.ts'
import { deServicesOf } from '../services.ts'

const german = (cashbox: CashboxRecord): CashboxRecord => cashboxOfCountry(cashbox, 'DE', '/de/v1', 'German')

const tags = ['Germany (KassenSichV)']

const TssStatus = Type.Object({
  tss_id: Type.String({ description: 'the TSS id, also usable on /api/v2 (organization = cash box id)' }),
  client_id: Type.String(),
  client_serial_number: Type.String({ description: 'KASSE_SERIENNR / Z_KASSE_ID of DSFinV-K' }),
  serial_number: Type.String({ description: 'TSS serial number (hex SHA-256 of the public key)' }),
  public_key: Type.String(),
  signature_algorithm: Type.String(),
  signature_counter: Type.Integer(),
  in_service: Type.Boolean(),
  out_of_service_since: Type.Union([Type.String(), Type.Null()]),
})

/**
 * Germany on /v2/sign: the cash box's TSS (status, out-of-service switch) and the DSFinV-K export. See
 * docs/country-de.md.
 */
export function deApi(runtime: Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    const de = deServicesOf(runtime.marketFor)
    app.decorateRequest('cashbox', null as never)
    app.addHook('onRequest', cashboxAuth(runtime))

    app.get(
      '/tss',
      {
        schema: {
          tags,
          summary: "The cash box's TSS (set up by its start receipt)",
          headers: CashboxHeaders,
          response: { 200: TssStatus, ...problemResponses },
        },
      },
      async (request) => cashboxTssStatus(de, german(request.cashbox).queueId),
    )

    app.put(
      '/tss/status',
      {
        schema: {
          tags,
          summary: 'Report the TSS out of service or back in service',
          description:
            'While the TSS is out of service, receipts are answered without it (ftState 0x2, "TSE ausgefallen") and appear in DSFinV-K with TSE_TA_FEHLER; after it is back, a zero receipt (0x4445200000002000) ends the failure.',
          headers: CashboxHeaders,
          body: Type.Object({ inService: Type.Boolean() }, { additionalProperties: false }),
          response: { 200: TssStatus, ...problemResponses },
        },
      },
      async (request) =>
        reportCashboxTss(de, german(request.cashbox).queueId, request.body.inService, new Date()),
    )

    app.get(
      '/dsfinvk',
      {
        schema: {
          tags,
          summary: 'DSFinV-K export (TAR: index.xml and the CSV files) for a range of cash point closings',
          description:
            'from/to: closing numbers (Z_NR) or business days (YYYY-MM-DD, the German calendar day of the closing), inclusive; without them every closing. Only closed days are exported: send a daily closing (0x4445200000002011) first. Columns and formats follow DSFinV-K 2.3 and its index.xml; times are German local time with offset, except the TSE log times (UTC).',
          headers: CashboxHeaders,
          querystring: Type.Object(
            {
              from: Type.Optional(Type.String({ maxLength: 10 })),
              to: Type.Optional(Type.String({ maxLength: 10 })),
            },
            { additionalProperties: false },
          ),
          produces: ['application/x-tar'],
        },
      },
      async (request, reply) => {
        const cashbox = german(request.cashbox)
        const exported = await de.dsfinvk.export(
          { queueId: cashbox.queueId, cashboxId: cashbox.id },
          request.query,
        )
        const name = `dsfinvk-${cashbox.id}-z${exported.closings[0]}-${exported.closings[exported.closings.length - 1]}.tar`
        return reply
          .type('application/x-tar')
          .header('content-disposition', `attachment; filename="${name}"`)
          .send(Readable.from(dsfinvkTar(exported)))
      },
    )
  }
}
