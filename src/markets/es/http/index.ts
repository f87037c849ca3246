import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { invalid } from '../../../core/errors.ts'
import type { CashboxRecord } from '../../../core/ports.ts'
import { type EsCashboxDescription, esServicesOf } from '../cashbox/index.ts'
import type { EsListedRecord, EsRecordStatus } from '../cashbox/ports.ts'
import type { Runtime } from '../../../runtime.ts'
import { cashboxAuth, cashboxOfCountry } from '../../../api/possystem-v2/auth.ts'
import { cashboxConfigurationRoutes } from '../../../api/possystem-v2/cashbox-configuration.ts'
import { CashboxHeaders, problemResponses } from '../../../api/possystem-v2/schemas.ts'
import { esJobRoutes } from './jobs.ts'
import { EsConfig, EsConfigBody, EsRecordsQuery, EsRecordView } from './schemas.ts'

const spanish = (cashbox: CashboxRecord): CashboxRecord =>
  cashboxOfCountry(cashbox, 'ES', '/es/v1', 'Spanish')

export const recordView = (r: EsListedRecord) => ({
  seq: r.seq,
  ftQueueRow: r.queueRow,
  cbReceiptReference: r.receiptReference,
  system: r.document.system,
  kind: r.kind,
  invoiceType: r.invoiceType,
  invoiceNumber: r.invoiceNumber,
  identifier: r.document.record.system === 'verifactu' ? r.document.record.value.huella : r.document.fiscalId,
  qrUrl: r.document.qrUrl,
  ...(r.document.record.system === 'ticketbai' ? { xml: r.document.record.value.xml } : {}),
  status: r.status,
  held: r.held,
  authority: r.authority,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
})

/** The configuration under the names of PUT's body (certificate_id, as a location's country_config). */
const configView = ({ certificateId, ...config }: EsCashboxDescription) => ({
  ...config,
  ...(certificateId ? { certificate_id: certificateId } : {}),
})

const tags = ['Spain (VERI*FACTU, TicketBAI)']

/**
 * Spain on /v2/sign: the configuration of the cash box of the request's credentials, and its records
 * with their submission status. See docs/country-es.md "ES receipts on /v2/sign".
 */
export function esApi(runtime: Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    const es = esServicesOf(runtime.marketFor)
    app.decorateRequest('cashbox', null as never)
    app.addHook('onRequest', cashboxAuth(runtime))

    cashboxConfigurationRoutes(app, {
      tags,
      putSummary:
        'Configure the Spanish cash box: system, territory, issuer, series, environment, certificate',
      putDescription:
        "Allowed until the first Spanish record of the cash box; afterwards only the same configuration is accepted (409 otherwise). certificate_id names a stored certificate of the cash box's account (POST /v1/certificates): it must exist there and be usable now (TicketBAI: signing with an RSA key; VERI*FACTU: TLS client authentication), and a production configuration must name one; otherwise 400 naming the field, and nothing is written.",
      getSummary: 'The Spanish configuration of the cash box',
      body: EsConfigBody,
      view: EsConfig,
      configure: async (cashbox, body) => configView(await es.configure(spanish(cashbox), body)),
      describe: async (cashbox) => configView(await es.describe(spanish(cashbox))),
    })

    app.get(
      '/records',
      {
        schema: {
          tags,
          summary: "The cash box's Spanish records in chain order, with their submission status",
          headers: CashboxHeaders,
          querystring: EsRecordsQuery,
          response: { 200: Type.Object({ records: Type.Array(EsRecordView) }), ...problemResponses },
        },
      },
      async (request) => {
        const { after, limit, status, queueRow } = request.query
        const count = limit === undefined ? 100 : Number(limit)
        if (count < 1 || count > 1000) throw invalid('limit', 'must be from 1 to 1000')
        const records = await es.records(spanish(request.cashbox).queueId, {
          afterSeq: Number(after ?? 0),
          limit: count,
          ...(status ? { status: status as EsRecordStatus } : {}),
          ...(queueRow !== undefined ? { queueRow: Number(queueRow) } : {}),
        })
        return { records: records.map(recordView) }
      },
    )

    await app.register(esJobRoutes(runtime, spanish))
  }
}
