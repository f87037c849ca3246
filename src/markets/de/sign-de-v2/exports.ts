import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { invalid } from '../../../core/errors.ts'
import { tssExportStream } from '../export/index.ts'
import type { ExportFilters } from '../tss/model.ts'
import { tarExportContent } from '../tss/tar-export.ts'
import type { Runtime } from '../../../runtime.ts'
import { listQuery, lower } from './query.ts'
import {
  Export,
  ListQuery,
  listOf,
  Metadata,
  MetadataPatch,
  QueryInteger,
  Uuid,
  errorResponses,
} from './schemas.ts'
import { exportView, listView } from './views.ts'
import { deServicesOf } from '../services.ts'

const tags = ['SIGN DE v2: export']
const ExportParams = Type.Object({ tss_id: Uuid, export_id: Uuid })
const MAX_RECORDS = 1_000_000
/**
 * A PENDING export older than this is run by whichever node is asked about it (its own node may be gone);
 * the service also takes over a WORKING one that has been stuck for minutes.
 */
const ORPHAN_AFTER_S = 5

const FilterQuery = Type.Object({
  client_id: Type.Optional(Uuid),
  transaction_number: Type.Optional(QueryInteger('one transaction')),
  start_transaction_number: Type.Optional(QueryInteger('from this transaction number')),
  end_transaction_number: Type.Optional(QueryInteger('up to this transaction number')),
  start_date: Type.Optional(QueryInteger('from this unix time (log time)')),
  end_date: Type.Optional(QueryInteger('up to this unix time (log time)')),
  start_signature_counter: Type.Optional(QueryInteger('from this signature counter')),
  end_signature_counter: Type.Optional(QueryInteger('up to this signature counter')),
  maximum_number_records: Type.Optional(
    QueryInteger('at most this many log messages (default and maximum 1000000)'),
  ),
})

type FilterText = Partial<Record<keyof typeof FilterQuery.properties, string>>

function filtersOf(query: FilterText): ExportFilters {
  const n = (text: string | undefined) => (text === undefined ? undefined : Number(text))
  const maximum = n(query.maximum_number_records) ?? MAX_RECORDS
  if (maximum < 1 || maximum > MAX_RECORDS)
    throw invalid('maximum_number_records', `must be 1 to ${MAX_RECORDS}`)
  if (query.transaction_number && (query.start_transaction_number || query.end_transaction_number))
    throw invalid('transaction_number', 'cannot be combined with start_/end_transaction_number')
  const filters: ExportFilters = { maximumNumberRecords: maximum }
  const set = <K extends keyof ExportFilters>(key: K, value: ExportFilters[K] | undefined) => {
    if (value !== undefined) filters[key] = value
  }
  set('clientId', query.client_id?.toLowerCase())
  set('transactionNumber', n(query.transaction_number))
  set('startTransactionNumber', n(query.start_transaction_number))
  set('endTransactionNumber', n(query.end_transaction_number))
  set('startDate', n(query.start_date))
  set('endDate', n(query.end_date))
  set('startSignatureCounter', n(query.start_signature_counter))
  set('endSignatureCounter', n(query.end_signature_counter))
  return filters
}

export function exportRoutes(runtime: Runtime): FastifyPluginAsyncTypebox {
  const service = deServicesOf(runtime.marketFor).tss
  return async (app) => {
    const run = (tssId: string, exportId: string) => {
      setImmediate(() => {
        service
          .runExport(tssId, exportId)
          .catch((error: unknown) => app.log.error({ err: error }, 'export failed'))
      })
    }
    const now = () => Math.floor(Date.now() / 1000)

    app.put(
      '/tss/:tss_id/export/:export_id',
      {
        schema: {
          tags,
          summary: 'Trigger a TAR export (asynchronous: poll GET until COMPLETED, then GET .../file)',
          params: ExportParams,
          querystring: FilterQuery,
          // The specification gives triggerExport no request body: none is read (an empty object is fine).
          response: { 200: Export, ...errorResponses(400, 401, 404, 409) },
        },
      },
      async (request) => {
        const tssId = lower(request.params.tss_id)
        const record = await service.triggerExport(
          request.signDeCaller,
          tssId,
          lower(request.params.export_id),
          filtersOf(request.query),
        )
        if (record.state === 'PENDING') run(tssId, record.id)
        return exportView(request.signDeCaller, record, now())
      },
    )

    app.get(
      '/tss/:tss_id/export/:export_id',
      {
        schema: {
          tags,
          summary: 'Retrieve an export',
          params: ExportParams,
          response: { 200: Export, ...errorResponses(401, 404) },
        },
      },
      async (request) => {
        const tssId = lower(request.params.tss_id)
        let record = await service.getExport(request.signDeCaller, tssId, lower(request.params.export_id))
        if (
          (record.state === 'PENDING' || record.state === 'WORKING') &&
          record.timeRequest < now() - ORPHAN_AFTER_S
        )
          record = (await service.runExport(tssId, record.id)) ?? record
        return exportView(request.signDeCaller, record, now())
      },
    )

    app.delete(
      '/tss/:tss_id/export/:export_id',
      {
        schema: {
          tags,
          summary: 'Cancel an export',
          params: ExportParams,
          response: { 200: Export, ...errorResponses(401, 404) },
        },
      },
      async (request) =>
        exportView(
          request.signDeCaller,
          await service.cancelExport(
            request.signDeCaller,
            lower(request.params.tss_id),
            lower(request.params.export_id),
          ),
          now(),
        ),
    )

    app.get(
      '/tss/:tss_id/export/:export_id/file',
      {
        schema: {
          tags,
          summary: 'Download a COMPLETED export as TAR (404 E_EXPORT_NOT_COMPLETED with Retry-After before)',
          params: ExportParams,
          produces: ['application/x-tar'],
        },
      },
      async (request, reply) => {
        const tssId = lower(request.params.tss_id)
        const exportId = lower(request.params.export_id)
        const { tss, selection } = await service.exportContent(request.signDeCaller, tssId, exportId)
        const { stream } = tssExportStream(await tarExportContent(service, tss, selection))
        return reply
          .type('application/x-tar')
          .header('content-disposition', `attachment; filename="export-${tssId}-${exportId}.tar"`)
          .send(stream)
      },
    )

    app.get(
      '/tss/:tss_id/export/:export_id/metadata',
      {
        schema: {
          tags,
          summary: 'Export metadata',
          params: ExportParams,
          response: { 200: Metadata, ...errorResponses(401, 404) },
        },
      },
      async (request) =>
        (
          await service.getExport(
            request.signDeCaller,
            lower(request.params.tss_id),
            lower(request.params.export_id),
          )
        ).metadata,
    )
    app.patch(
      '/tss/:tss_id/export/:export_id/metadata',
      {
        schema: {
          tags,
          summary: 'Update export metadata',
          params: ExportParams,
          body: MetadataPatch,
          response: { 200: Metadata, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) =>
        (
          await service.updateExportMetadata(
            request.signDeCaller,
            lower(request.params.tss_id),
            lower(request.params.export_id),
            request.body,
          )
        ).metadata,
    )

    const list = (tssId?: string) => async (request: { signDeCaller: never; query: never }) => {
      const caller = request.signDeCaller
      const page = await service.listExports(caller, listQuery(request.query, 'time_request'), tssId)
      return listView(caller, 'EXPORT_LIST', {
        data: page.data.map((e) => exportView(caller, e, now())),
        count: page.count,
      })
    }
    const ExportListQuery = ListQuery(['time_request', 'state'])
    app.get(
      '/tss/:tss_id/export',
      {
        schema: {
          tags,
          summary: 'List the exports of a TSS',
          params: Type.Object({ tss_id: Uuid }),
          querystring: ExportListQuery,
          response: { 200: listOf(Export, 'EXPORT_LIST'), ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => list(lower(request.params.tss_id))(request as never),
    )
    app.get(
      '/export',
      {
        schema: {
          tags,
          summary: 'List the exports of every TSS of the organization',
          querystring: ExportListQuery,
          response: { 200: listOf(Export, 'EXPORT_LIST'), ...errorResponses(400, 401) },
        },
      },
      async (request) => list()(request as never),
    )
  }
}
