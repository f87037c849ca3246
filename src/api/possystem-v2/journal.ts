import { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorCode, FiscalError, invalid } from '../../core/errors.ts'
import { PRODUCT, PRODUCT_VERSION } from '../../product.ts'
import type { Runtime } from '../../runtime.ts'
import { sendJsonText } from '../send-json.ts'
import type { JournalRepository, Page } from '../../storage/repositories/journal.ts'
import { cashboxConfiguration } from './configuration.ts'
import { CashboxHeaders, problemResponses } from './schemas.ts'

type JournalType = 'ReceiptJournal' | 'ActionJournal' | 'QueueItem'
const TYPES: JournalType[] = ['ReceiptJournal', 'ActionJournal', 'QueueItem']
/** The JournalRequest form's numeric types (devkit): 1 ActionJournal, 2 ReceiptJournal, 3 QueueItem. */
const NUMERIC_TYPES: Record<number, JournalType> = { 1: 'ActionJournal', 2: 'ReceiptJournal', 3: 'QueueItem' }
const MAX_PAGE = 10_000
const STREAM_PAGE = 1_000

/** .NET ticks (100 ns since 0001-01-01) <-> ISO 8601, for JournalRequest From/To. */
const TICKS_AT_UNIX_EPOCH = 621_355_968_000_000_000n
const ticksToIso = (ticks: bigint, field: string): string => {
  const moment = new Date(Number((ticks - TICKS_AT_UNIX_EPOCH) / 10_000n))
  if (Number.isNaN(moment.getTime())) throw invalid(field, 'is not a moment in .NET ticks')
  return moment.toISOString()
}

function entry(type: JournalType, row: Record<string, unknown>): unknown {
  switch (type) {
    case 'ReceiptJournal':
      return {
        ftReceiptJournalId: row.id,
        ftQueueId: row.queue_id,
        ftQueueItemId: row.queue_item_id,
        ftQueueRow: row.queue_row,
        ftReceiptNumber: row.number,
        ftReceiptMoment: row.moment,
        ftReceiptCase: row.receipt_case,
        ftReceiptTotal: row.total,
        RequestHash: row.request_hash,
        ResponseHash: row.response_hash,
        PreviousHash: row.previous_hash,
        ftReceiptHash: row.hash,
      }
    case 'ActionJournal':
      return {
        ftActionJournalId: row.id,
        ftQueueId: row.queue_id,
        ftQueueItemId: row.queue_item_id,
        Number: row.number,
        Moment: row.moment,
        Type: row.type,
        Message: row.message,
        Data: JSON.parse(String(row.data)),
      }
    case 'QueueItem':
      return {
        ftQueueItemId: row.id,
        ftQueueId: row.queue_id,
        ftQueueRow: row.row,
        ftQueueMoment: row.ft_moment,
        cbReceiptReference: row.cb_receipt_reference,
        cbTerminalID: row.cb_terminal_id,
        cbReceiptMoment: row.cb_receipt_moment,
        ftReceiptCase: row.ft_receipt_case,
        ftState: row.ft_state,
        operationId: row.operation_id,
        request: JSON.parse(String(row.request)),
        requestHash: row.request_hash,
        response: JSON.parse(String(row.response)),
        responseHash: row.response_hash,
      }
  }
}

const cursorOf = (type: JournalType, row: Record<string, unknown>): number =>
  Number(type === 'QueueItem' ? row.row : row.number)

function readPage(journal: JournalRepository, type: JournalType, queueId: string, page: Page) {
  const rows =
    type === 'ReceiptJournal'
      ? journal.receipts(queueId, page)
      : type === 'ActionJournal'
        ? journal.actions(queueId, page)
        : journal.queueItems(queueId, page)
  return rows as Promise<Array<Record<string, unknown>>>
}

/** A JSON array streamed page by page, so a long journal is never held in memory. */
function streamArray(
  journal: JournalRepository,
  type: JournalType,
  queueId: string,
  page: Page,
  total: number,
): Readable {
  async function* generate() {
    yield '['
    let after = page.after
    let left = total
    let first = true
    while (left > 0) {
      const rows = await readPage(journal, type, queueId, {
        ...page,
        after,
        limit: Math.min(STREAM_PAGE, left),
      })
      for (const row of rows) {
        yield (first ? '' : ',') + JSON.stringify(entry(type, row))
        first = false
      }
      if (rows.length < Math.min(STREAM_PAGE, left)) break
      left -= rows.length
      after = cursorOf(type, rows[rows.length - 1] as Record<string, unknown>)
    }
    yield ']'
  }
  return Readable.from(generate())
}

// Ticks of any date since year 4 have 18 digits.
const Digits = Type.String({ pattern: '^\\d{1,20}$' })
const JournalQuery = Type.Object({
  after: Type.Optional(
    Type.String({
      pattern: '^\\d{1,15}$',
      description: 'exclusive cursor: receipt number, action number or queue row',
    }),
  ),
  limit: Type.Optional(
    Type.String({ pattern: '^\\d{1,5}$', description: `page size, 1 to ${MAX_PAGE} (default 1000)` }),
  ),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
})

const JournalRequest = Type.Object({
  // Absent reads as 0, the version: System.Text.Json with WhenWritingDefault (the devkit's serializer
  // options) leaves a 0 out, so a client asking for the version sends {}.
  ftJournalType: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.String({ maxLength: 20 })])),
  From: Type.Optional(Type.Union([Type.Integer(), Digits])),
  To: Type.Optional(Type.Union([Type.Integer(), Type.String({ pattern: '^-?\\d{1,20}$' })])),
})

const JOURNAL_TYPES = 'must be 0, 1, 2, 3 or 255 (a JSON number, or its decimal or 0x text)'

/**
 * ftJournalType as a number. Its text must be digits or 0x and hex digits: Number() would read "" and " "
 * as 0, the version, so a blank field answered as if the POS had asked for it.
 */
function journalTypeOf(value: number | string): number {
  if (typeof value === 'string' && !/^(?:\d{1,20}|0[xX][0-9a-fA-F]{1,16})$/.test(value))
    throw invalid('ftJournalType', JOURNAL_TYPES)
  return Number(value)
}

export function journalRoutes(runtime: Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/journal/:queueId/:type',
      {
        schema: {
          summary: 'Read a journal of the cash box queue, one page at a time',
          description:
            'type: ReceiptJournal, ActionJournal or QueueItem. Pages are keyset cursors: pass the header x-next-after of a full page as ?after= to read on.',
          headers: CashboxHeaders,
          params: Type.Object({ queueId: Type.String(), type: Type.String() }),
          querystring: JournalQuery,
          response: { 200: Type.Array(Type.Unknown()), ...problemResponses },
        },
      },
      async (request, reply) => {
        const { queueId, type } = request.params
        if (queueId.toLowerCase() !== request.cashbox.queueId) {
          throw new FiscalError(ErrorCode.NotFound, `queue ${queueId} is not a queue of this cash box`, {
            field: 'queueId',
            reason: 'must be the queue of the cash box of the credentials',
          })
        }
        if (!TYPES.includes(type as JournalType)) throw invalid('type', `must be one of ${TYPES.join(', ')}`)
        const limit = request.query.limit === undefined ? 1000 : Number(request.query.limit)
        if (limit < 1 || limit > MAX_PAGE) throw invalid('limit', `must be between 1 and ${MAX_PAGE}`)
        const page: Page = {
          after: Number(request.query.after ?? 0),
          limit,
          ...(request.query.from ? { from: new Date(request.query.from).toISOString() } : {}),
          ...(request.query.to ? { to: new Date(request.query.to).toISOString() } : {}),
        }
        const rows = await readPage(runtime.journal, type as JournalType, request.cashbox.queueId, page)
        const last = rows[rows.length - 1]
        if (rows.length === limit && last) {
          const next = cursorOf(type as JournalType, last)
          reply.header('x-next-after', String(next))
          reply.header(
            'link',
            `</v2/journal/${request.cashbox.queueId}/${type}?after=${next}&limit=${limit}>; rel="next"`,
          )
        }
        return sendJsonText(reply, JSON.stringify(rows.map((row) => entry(type as JournalType, row))))
      },
    )

    app.post(
      '/journal',
      {
        schema: {
          summary: 'Read a journal with a JournalRequest {ftJournalType, From, To} (devkit form)',
          description:
            'ftJournalType 0 (or absent) version, 1 ActionJournal, 2 ReceiptJournal, 3 QueueItem, 0xFF configuration (the document of POST /v2/configuration). From/To are .NET ticks; To < 0 takes |To| entries, To = 0 everything after From. The answer is a streamed JSON array.',
          headers: CashboxHeaders,
          body: JournalRequest,
        },
      },
      async (request, reply) => {
        const journalType = journalTypeOf(request.body.ftJournalType ?? 0)
        if (journalType === 0) return { Version: PRODUCT_VERSION, Product: PRODUCT }
        if (journalType === 0xff) return cashboxConfiguration(runtime, request.cashbox)
        const type = NUMERIC_TYPES[journalType]
        if (!type) throw invalid('ftJournalType', JOURNAL_TYPES)
        const from = BigInt(request.body.From ?? 0)
        const to = BigInt(request.body.To ?? 0)
        const page: Page = {
          after: 0,
          limit: 0,
          ...(from > 0n ? { from: ticksToIso(from, 'From') } : {}),
          ...(to > 0n ? { to: ticksToIso(to, 'To') } : {}),
        }
        const total = to < 0n ? Number(-to) : Number.MAX_SAFE_INTEGER
        return sendJsonText(reply, streamArray(runtime.journal, type, request.cashbox.queueId, page, total))
      },
    )
  }
}
