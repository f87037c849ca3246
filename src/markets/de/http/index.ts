import { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorCode, FiscalError } from '../../../core/errors.ts'
import type { CashboxRecord } from '../../../core/ports.ts'
import type { RemoteExportRecord } from '../remote/ports.ts'
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

const RemoteTseBody = Type.Object(
  {
    base_url: Type.String({
      maxLength: 300,
      description: 'the TSE API, e.g. https://kassensichv-middleware.fiskaly.com',
    }),
    api_key: Type.String({ minLength: 1, maxLength: 200 }),
    api_secret: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'stored sealed, never shown again',
    }),
    tss_id: Type.Optional(Type.String({ description: 'adopt this TSS instead of creating one' })),
    client_id: Type.Optional(Type.String({ description: 'adopt this client instead of registering one' })),
    admin_pin: Type.Optional(
      Type.String({ maxLength: 100, description: 'of an adopted TSS, to register the client' }),
    ),
    timeout_ms: Type.Optional(Type.Integer({ description: 'one exchange with the TSE; default 5000' })),
  },
  { additionalProperties: false },
)

const RemoteTse = Type.Object({
  base_url: Type.String(),
  api_key: Type.String(),
  tss_id: Type.String(),
  client_id: Type.String(),
  client_serial_number: Type.String(),
  tss_serial_number: Type.String(),
  signature_algorithm: Type.String(),
  public_key: Type.String(),
  timeout_ms: Type.Integer(),
})

const RemoteExport = Type.Object({
  export_id: Type.String(),
  tss_id: Type.String(),
  pulled_at: Type.String(),
  bytes: Type.Integer(),
})

const exportView = (r: RemoteExportRecord) => ({
  export_id: r.exportId,
  tss_id: r.tssId,
  pulled_at: r.pulledAt,
  bytes: r.bytes,
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

    app.put(
      '/remote-tse',
      {
        schema: {
          tags,
          summary: 'Put the cash box on a certified cloud TSE (SIGN DE v2 API)',
          description:
            'Creates and initializes the TSS on the remote TSE unless tss_id names an existing one, and registers the cash box as its client unless client_id names an existing one (adopting a TSS that is not new needs its admin_pin). Before the start receipt, or again with the same TSS to renew the credentials. api_secret is stored sealed by the master key and never shown. See docs/remote-tse.md.',
          headers: CashboxHeaders,
          body: RemoteTseBody,
          response: { 200: RemoteTse, ...problemResponses },
        },
      },
      async (request) => {
        const cashbox = german(request.cashbox)
        const b = request.body
        return de.remote.configure(cashbox, {
          baseUrl: b.base_url,
          apiKey: b.api_key,
          apiSecret: b.api_secret,
          ...(b.tss_id ? { tssId: b.tss_id } : {}),
          ...(b.client_id ? { clientId: b.client_id } : {}),
          ...(b.admin_pin ? { adminPin: b.admin_pin } : {}),
          ...(b.timeout_ms === undefined ? {} : { timeoutMs: b.timeout_ms }),
        })
      },
    )

    app.get(
      '/remote-tse',
      {
        schema: {
          tags,
          summary: "The cash box's remote TSE (404 when it signs with fiscalbox's own TSS)",
          headers: CashboxHeaders,
          response: { 200: RemoteTse, ...problemResponses },
        },
      },
      async (request) => {
        const view = await de.remote.view(german(request.cashbox).queueId)
        if (!view) throw new FiscalError(ErrorCode.NotFound, 'this cash box signs with the software TSS')
        return view
      },
    )

    app.post(
      '/remote-tse/exports',
      {
        schema: {
          tags,
          summary: 'Pull a TAR export of the whole TSS from the remote TSE and keep it',
          description:
            'Triggers the export on the remote TSE, waits for it and downloads it; the TAR is kept in the database (the law asks for ten years, TSE providers keep exports for weeks).',
          headers: CashboxHeaders,
          response: { 200: RemoteExport, ...problemResponses },
        },
      },
      async (request) => exportView(await de.remote.pullExport(german(request.cashbox).queueId)),
    )

    app.get(
      '/remote-tse/exports',
      {
        schema: {
          tags,
          summary: 'The TAR exports pulled from the remote TSE, oldest first',
          headers: CashboxHeaders,
          response: { 200: Type.Array(RemoteExport), ...problemResponses },
        },
      },
      async (request) => (await de.remote.store.exports(german(request.cashbox).queueId)).map(exportView),
    )

    app.get(
      '/remote-tse/exports/:export_id',
      {
        schema: {
          tags,
          summary: 'A TAR export pulled from the remote TSE, as the TSE gave it',
          headers: CashboxHeaders,
          params: Type.Object({ export_id: Type.String({ maxLength: 40 }) }),
          produces: ['application/x-tar'],
        },
      },
      async (request, reply) => {
        const cashbox = german(request.cashbox)
        const tar = await de.remote.store.exportTar(cashbox.queueId, request.params.export_id)
        if (!tar)
          throw new FiscalError(ErrorCode.NotFound, `no export ${request.params.export_id} was pulled`)
        return reply
          .type('application/x-tar')
          .header('content-disposition', `attachment; filename="tse-export-${request.params.export_id}.tar"`)
          .send(tar)
      },
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
