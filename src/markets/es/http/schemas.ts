import { Type } from 'typebox'
import { ES_RECORD_STATUSES } from '../cashbox/ports.ts'

const STATUS_PATTERN = `^(${ES_RECORD_STATUSES.join('|')})$`
const STATUS_TEXT = `submission status: ${ES_RECORD_STATUSES.join(', ')}`

/** The body is checked by the Spanish validators (400 naming the field); the schema documents it. */
export const EsConfigBody = Type.Object(
  {
    system: Type.String({ description: 'verifactu or ticketbai' }),
    territory: Type.Optional(Type.String({ description: 'TicketBAI only: araba, bizkaia or gipuzkoa' })),
    nif: Type.String({ description: "the issuer's NIF, 9 characters, e.g. B12345674" }),
    name: Type.String({ description: "the issuer's legal name (1 to 120 characters)" }),
    series: Type.Optional(
      Type.String({ description: 'invoice series (default FB{first 8 characters of the cash box id}-)' }),
    ),
    rectifyingSeries: Type.Optional(
      Type.String({ description: 'series of rectifying invoices (default: the series followed by R)' }),
    ),
    environment: Type.Optional(
      Type.String({ description: 'test (default: records go to the authority simulator) or production' }),
    ),
    certificate_id: Type.Optional(
      Type.String({
        description:
          "a stored certificate of the cash box's account (POST /v1/certificates, `fiscalbox certificates import`): signs its TicketBAI invoices and authenticates its submissions (mutual TLS); required in production, optional in test",
      }),
    ),
  },
  { additionalProperties: false },
)

export const EsConfig = Type.Object({
  system: Type.String(),
  territory: Type.Optional(Type.String()),
  nif: Type.String(),
  name: Type.String(),
  series: Type.String(),
  rectifyingSeries: Type.String(),
  environment: Type.String(),
  certificate_id: Type.Optional(Type.String()),
  certificate: Type.Optional(
    Type.Union(
      [
        Type.Object({
          id: Type.String(),
          subject: Type.String(),
          notAfter: Type.String({ description: 'when the active version expires' }),
        }),
        Type.Null(),
      ],
      {
        description:
          'the certificate certificate_id names, as its active version is now (a replacement shows at once); null when the account no longer holds it. Never its key.',
      },
    ),
  ),
})

export const EsRecordsQuery = Type.Object({
  after: Type.Optional(
    Type.String({
      pattern: '^\\d{1,15}$',
      description: 'records after this seq (default 0: from the first)',
    }),
  ),
  limit: Type.Optional(Type.String({ pattern: '^\\d{1,4}$', description: '1 to 1000 (default 100)' })),
  status: Type.Optional(Type.String({ pattern: STATUS_PATTERN, description: STATUS_TEXT })),
  queueRow: Type.Optional(
    Type.String({
      pattern: '^\\d{1,15}$',
      description: 'only the record(s) of the receipt with this ftQueueRow',
    }),
  ),
})

export const EsRecordView = Type.Object({
  seq: Type.Integer({ description: "position in the cash box's chain" }),
  ftQueueRow: Type.Integer(),
  cbReceiptReference: Type.String(),
  system: Type.String({ description: 'verifactu or ticketbai' }),
  kind: Type.String({ description: 'alta (an invoice) or anulacion (a cancellation)' }),
  invoiceType: Type.Union([Type.String(), Type.Null()], {
    description: 'F1, F2, R1, R5; null for a cancellation',
  }),
  invoiceNumber: Type.String(),
  identifier: Type.String({ description: 'Huella (VERI*FACTU) or TBAI identifier' }),
  qrUrl: Type.String({ description: "'' for a cancellation" }),
  xml: Type.Optional(Type.String({ description: 'TicketBAI: the signed XML document (XAdES-EPES)' })),
  status: Type.String({ description: STATUS_TEXT }),
  held: Type.Union(
    [
      Type.Object({
        window: Type.String({ description: 'lroe: Bizkaia' }),
        until: Type.String({ description: 'when the batch goes out (FISCALBOX_ES_LROE_AT)' }),
      }),
      Type.Null(),
    ],
    {
      description:
        'the batch window the record waits for (a pending Bizkaia record until the next LROE batch time; POST /es/v1/batches/lroe/run sends it now); null otherwise',
    },
  ),
  authority: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
    description:
      "the authority's answer: state (Correcto, AceptadoConErrores, Incorrecto...), code, description, csv",
  }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
})
