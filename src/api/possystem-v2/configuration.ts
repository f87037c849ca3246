import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { type Static, Type } from 'typebox'
import type { SigningUnitView } from '../../core/market.ts'
import type { CashboxRecord, TerminalRecord } from '../../core/ports.ts'
import { countryIso } from '../../core/case-codes.ts'
import { POS_SYSTEM_API_VERSION, PRODUCT, PRODUCT_VERSION } from '../../product.ts'
import type { Runtime } from '../../runtime.ts'
import { CashboxHeaders, problemResponses } from './schemas.ts'

const Moment = Type.Union([Type.String(), Type.Null()])

const Queue = Type.Object({
  ftQueueId: Type.String({ format: 'uuid' }),
  CountryCode: Type.String({ description: 'ISO 3166-1 alpha-2 code of the queue (EU: generic)' }),
  State: Type.Union([Type.Literal('not started'), Type.Literal('started'), Type.Literal('stopped')]),
  StartMoment: Moment,
  StopMoment: Moment,
  ftCurrentRow: Type.Integer({ description: 'rows the queue has taken, rejected requests included' }),
  ftReceiptNumerator: Type.Integer({ description: 'number of the last receipt; 0 before the first' }),
  LastReceiptMoment: Type.Union([Type.String(), Type.Null()], {
    description: 'ftReceiptMoment of the last receipt, null before the first',
  }),
})

const SigningUnit = Type.Object({
  Type: Type.String({ description: 'e.g. TSS, signature device, RT device, VERI*FACTU, queue key' }),
  Id: Type.Union([Type.String(), Type.Null()], {
    description: 'its serial number or address; null while it does not exist yet',
  }),
  State: Type.String({ description: 'e.g. in service, out of service, not configured' }),
  Details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
})

const Terminal = Type.Object({
  cbTerminalID: Type.String(),
  Description: Type.String(),
  PairedMoment: Type.String(),
})

export const Configuration = Type.Object({
  ftCashBoxId: Type.String({ format: 'uuid' }),
  Country: Type.String(),
  ftQueues: Type.Array(Queue),
  ftSignaturCreationUnits: Type.Array(SigningUnit),
  Terminals: Type.Array(Terminal),
  Product: Type.String(),
  Version: Type.String({ description: 'fiscalbox version' }),
  PosSystemApiVersion: Type.String(),
})

const PairingRequest = Type.Object(
  {
    cbTerminalID: Type.Optional(
      Type.Unknown({
        description: 'the terminal to pair: 1 to 200 characters, not blank, no control characters',
      }),
    ),
    Description: Type.Optional(
      Type.Unknown({ description: 'what the terminal is, e.g. "counter 2" (at most 200 characters)' }),
    ),
  },
  { additionalProperties: true },
)

const terminalView = (terminal: TerminalRecord) => ({
  cbTerminalID: terminal.terminalId,
  Description: terminal.description,
  PairedMoment: terminal.pairedAt,
})

/**
 * The configuration a POS reads at start-up: its cash box, queue, signing units, paired terminals and the
 * server's versions. Also the answer of the configuration journal (POST /v2/journal, ftJournalType 0xFF).
 */
export async function cashboxConfiguration(
  runtime: Runtime,
  cashbox: CashboxRecord,
): Promise<Static<typeof Configuration>> {
  const queueId = cashbox.queueId
  const queue = await runtime.journal.queue(queueId)
  if (!queue) throw new Error(`the queue ${queueId} of cash box ${cashbox.id} is missing`)
  const numerator = Number(queue.receipt_numerator)
  const [last] = numerator ? await runtime.journal.receipts(queueId, { after: numerator - 1, limit: 1 }) : []
  const market = runtime.marketFor(queue.country_code)
  const units: SigningUnitView[] = market.signingUnits
    ? await market.signingUnits({ id: cashbox.id, queueId, accountId: cashbox.accountId })
    : [await queueKeyUnit(runtime, queueId)]
  return {
    ftCashBoxId: cashbox.id,
    Country: cashbox.country,
    ftQueues: [
      {
        ftQueueId: queueId,
        CountryCode: countryIso(queue.country_code),
        State: queue.stop_moment ? 'stopped' : queue.start_moment ? 'started' : 'not started',
        StartMoment: queue.start_moment,
        StopMoment: queue.stop_moment,
        ftCurrentRow: Number(queue.current_row),
        ftReceiptNumerator: numerator,
        LastReceiptMoment: last?.moment ?? null,
      },
    ],
    ftSignaturCreationUnits: units,
    Terminals: (await runtime.terminals.list(cashbox.id)).map(terminalView),
    Product: PRODUCT,
    Version: PRODUCT_VERSION,
    PosSystemApiVersion: POS_SYSTEM_API_VERSION,
  }
}

/** A market without units of its own signs with the queue's key: its public key verifies the receipts. */
async function queueKeyUnit(runtime: Runtime, queueId: string): Promise<SigningUnitView> {
  const key = await runtime.cashboxes.signer(queueId)
  return {
    Type: 'queue key',
    Id: queueId,
    State: 'in service',
    Details: { algorithm: key.algorithm, publicKey: key.publicKey },
  }
}

export function configurationRoute(runtime: Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/configuration',
      {
        schema: {
          summary: "Read the cash box's configuration; with cbTerminalID, pair that terminal first",
          description:
            'Without a body (or with {}), answers the configuration a POS reads at start-up. With {cbTerminalID, Description}, pairs the terminal with the cash box, idempotently: the same pair again changes nothing, another Description for a paired cbTerminalID is 409. Bad input is 400 naming the field and writes nothing.',
          headers: CashboxHeaders,
          body: PairingRequest,
          response: { 200: Configuration, ...problemResponses },
        },
        // A request without content (an HttpRequestMessage without Content) reads, like {}.
        preValidation: async (request) => {
          request.body ??= {}
        },
      },
      async (request) => {
        const { body } = request
        if (body.cbTerminalID !== undefined || body.Description !== undefined)
          await runtime.terminals.pair(request.cashbox.id, body, new Date())
        return cashboxConfiguration(runtime, request.cashbox)
      },
    )
  }
}
