import { createHash } from 'node:crypto'
import { invalid } from '../../core/errors.ts'
import { parseDecimal } from '../../core/money.ts'
import {
  type AuthorityAnswer,
  type AuthorityClient,
  AuthorityFiscalizer,
  type FiscalInput,
  type SealContext,
  type SealedRecord,
  type SubmittedRecord,
} from '../../core/v1/fiscalizer.ts'
import type { Environment, LocationRecord } from '../../core/v1/model.ts'
import { microsToCents } from '../../core/v1/transaction-input.ts'
import type { SpanishAuthority } from './authority.ts'
import { SpanishDelivery, type SpanishRecord, type SpanishStatement } from './delivery.ts'
import {
  issueCancellation,
  issueSale,
  newSpainState,
  rateFromFraction,
  type Sale,
  type SpainDocument,
  type SpainIssuerConfig,
  type SpainState,
} from './documents.ts'
import { spanishAuthorityFor } from './index.ts'
import { validateConfig } from './location-config.ts'
import {
  FISCALBOX_SOFTWARE,
  type SpanishSoftware,
  ticketBaiSoftwareOf,
  verifactuSystemOf,
} from './software.ts'
import { DEFAULT_LROE_AT, lroeHoldOf, parseLroeSchedule } from './ticketbai/lroe-window.ts'
import { TERRITORY_RULES, type Territory } from './ticketbai/territories.ts'
import type { SigningCredentials } from './ticketbai/xades.ts'
import type { ClientCertificate } from './transport.ts'
import { memoryPacer, type SubmissionPacer } from './verifactu/authority.ts'

/**
 * The Spanish fiscalizers of the transactions API v1 (`ES:verifactu`, `ES:ticketbai`): a location's sale
 * becomes the document of its system when the transaction is stored (numbered, chained, QR code, fiscal
 * id), and the outbox submits it to the authority through the Spanish clients. The location's
 * `SpainState` (next number and chain) is the fiscalizer state of the location's chain row, so it is read
 * and written under the same lock and in the same commit as the record.
 */

export interface SpanishFiscalizerOptions {
  /** Where test-environment (fsk_test_) submissions go: the simulator's base URL. */
  simulatorUrl?: string
  /** Production endpoints (live keys): VERI*FACTU defaults to the AEAT's; TicketBAI must be configured. */
  endpoints?: { verifactu?: string; ticketbai?: Partial<Record<Territory, TicketBaiEndpoints>> }
  /** TLS client certificate of live submissions (the taxpayer's or a representative's). */
  clientCertificate?: (location: LocationRecord) => ClientCertificate | undefined
  /** TicketBAI signing credentials of a location in an environment. */
  signingCredentials?: (location: LocationRecord, environment: Environment) => SigningCredentials | undefined
  software?: Partial<SpanishSoftware>
  /** HTTP timeout of one submission (an unanswered request is an unknown outcome). */
  timeoutMs?: number
  /** Records generated longer ago are sent with Incidencia=S (default 300 s). */
  lateAfterSeconds?: number
  pacer?: SubmissionPacer
  /** epoch ms: the outbox's clock (V1Options.clock), which TiempoEsperaEnvio is kept on; default Date.now */
  clock?: () => number
  /**
   * When Bizkaia's LROE batches go out: `HH:MM` UTC once a day (default 02:00), or `immediate` (each record
   * as soon as it is stored, e.g. for test set-ups that want the answer in the 201).
   */
  lroeAt?: string
}

export interface TicketBaiEndpoints {
  submit: string
  cancel?: string
  query: string
}

/** What a v1 record of Spain holds: the document as issued, JSON. */
export interface StoredSpanishRecord {
  format: 'fiscalbox-es-v1'
  document: SpainDocument
}

export const SPANISH_RECORD_FORMAT = 'fiscalbox-es-v1'

export function parseSpanishRecord(text: string): SpainDocument {
  const parsed = JSON.parse(text) as StoredSpanishRecord
  if (parsed.format !== SPANISH_RECORD_FORMAT) throw new Error('not a Spanish record of fiscalbox')
  return parsed.document
}

/** The invoice series of a location when its country_config gives none: unique per location and environment. */
export const defaultSeries = (locationId: string, environment: Environment): string =>
  `FB${locationId.slice(0, 8).toUpperCase()}${environment === 'live' ? 'L' : 'T'}-`

function issuerConfig(
  location: LocationRecord,
  environment: Environment,
  software: SpanishSoftware,
  credentials: SigningCredentials | undefined,
): SpainIssuerConfig {
  const c = location.countryConfig
  const system = c.system === 'ticketbai' ? 'ticketbai' : 'verifactu'
  // One chain per installation: a location's test and live records are two chains.
  const verifactuSystem = verifactuSystemOf(software, `${location.id}-${environment}`)
  const tbaiSoftware = ticketBaiSoftwareOf(software)
  return {
    system,
    ...(system === 'ticketbai' ? { territory: c.territory as Territory } : {}),
    issuer: { nif: String(c.nif), name: typeof c.name === 'string' ? c.name : location.name },
    environment: environment === 'live' ? 'production' : 'test',
    series: typeof c.series === 'string' ? c.series : defaultSeries(location.id, environment),
    verifactuSystem,
    ticketbaiSoftware: tbaiSoftware,
    deviceSerial: location.id.slice(0, 30),
    ...(credentials ? { credentials } : {}),
  }
}

/** The sale of a v1 request body (already checked by parseCreateTransaction) as the Spanish documents take it. */
export function saleOf(request: unknown, timestamp: string): Sale {
  const body = request as {
    items: Array<{ description: string; quantity: number; unit_price: number; tax_rate: number }>
    pretax_amount: number
    tax_amount: number
    customer_context?: Record<string, unknown>
  }
  const cents = (value: number, field: string) => microsToCents(parseDecimal(value, field))
  const customer = body.customer_context
  const nif = typeof customer?.nif === 'string' ? customer.nif.trim().toUpperCase() : undefined
  const items = body.items.map((item, i) => ({
    description: item.description,
    quantity: quantityText(item.quantity, `items[${i}].quantity`),
    unitPriceCents: cents(item.unit_price, `items[${i}].unit_price`),
    taxRateBasisPoints: rateFromFraction(item.tax_rate, `items[${i}].tax_rate`),
  }))
  const pretaxCents = cents(body.pretax_amount, 'pretax_amount')
  const taxCents = cents(body.tax_amount, 'tax_amount')
  // Retail prices include VAT (the example sale of docs/country-es.md: 2 x 2.50 + 3.00 = total 8.00, pretax 6.61): when the
  // items add up to the total rather than to the pretax amount, they are read as tax-inclusive.
  const itemsSum = items.reduce(
    (sum, item) =>
      sum + (parseDecimal(Number(item.quantity), 'quantity') * BigInt(item.unitPriceCents)) / 1_000_000n,
    0n,
  )
  const near = (a: bigint, b: number) =>
    (a > BigInt(b) ? a - BigInt(b) : BigInt(b) - a) <= BigInt(items.length)
  const pricesIncludeTax =
    taxCents > 0 && near(itemsSum, pretaxCents + taxCents) && !near(itemsSum, pretaxCents)
  return {
    issuedAt: new Date(timestamp),
    items,
    pretaxCents,
    taxCents,
    pricesIncludeTax,
    ...(nif
      ? {
          customer: {
            nif,
            name: typeof customer?.name === 'string' ? customer.name : nif,
            ...(typeof customer?.postal_code === 'string' ? { postalCode: customer.postal_code } : {}),
            ...(typeof customer?.address === 'string' ? { address: customer.address } : {}),
          },
        }
      : {}),
  }
}

function quantityText(value: number, field: string): string {
  const micros = parseDecimal(value, field)
  if (micros % 1000n !== 0n) throw invalid(field, 'must have at most 3 decimals')
  const whole = micros / 1_000_000n
  const thousandths = (micros % 1_000_000n) / 1000n
  return thousandths === 0n ? String(whole) : `${whole}.${String(thousandths).padStart(3, '0')}`
}

const readState = (state: string | null): SpainState =>
  state ? (JSON.parse(state) as SpainState) : newSpainState()

function sealer(software: SpanishSoftware, options: SpanishFiscalizerOptions) {
  const lroeSchedule = parseLroeSchedule(options.lroeAt ?? DEFAULT_LROE_AT)
  return async (context: SealContext, input: FiscalInput): Promise<SealedRecord> => {
    const credentials = options.signingCredentials?.(input.location, input.environment)
    const config = issuerConfig(input.location, input.environment, software, credentials)
    if (config.system === 'ticketbai' && !credentials)
      throw invalid(
        'country_config.certificate_id',
        `no TicketBAI signing certificate is configured for ${input.environment} records of this location`,
      )
    const state = readState(context.state)
    let made: { document: SpainDocument; state: SpainState }
    if (input.type === 'cancellation') {
      const original = input.original?.record
      if (!original) throw invalid('transaction', 'the cancelled transaction has no sealed record')
      made = issueCancellation(config, state, parseSpanishRecord(original.record), context.now)
    } else {
      made = issueSale(config, state, saleOf(input.request, input.timestamp))
    }
    const { document } = made
    const stored: StoredSpanishRecord = { format: SPANISH_RECORD_FORMAT, document }
    const record = JSON.stringify(stored)
    const value = document.record.value
    // The location's chain hash: VERI*FACTU's Huella; for TicketBAI (chained by signature values) the
    // SHA-256 of the signed document.
    const hash =
      document.record.system === 'verifactu'
        ? document.record.value.huella
        : createHash('sha256').update(document.record.value.xml, 'utf8').digest('hex').toUpperCase()
    const payload: Record<string, unknown> = {
      fiscalizer: `es-${document.system}`,
      system: document.system,
      sequence: context.sequence,
      invoice_number: document.invoiceNumber,
      fiscal_id: document.fiscalId,
      qr_url: document.qrUrl,
      record_kind: value.kind,
      hash,
      previous_hash: context.previousHash,
    }
    if (document.record.system === 'verifactu') {
      const v = document.record.value
      payload.huella = v.huella
      payload.issue_date = v.issueDate
      if (v.kind === 'alta') {
        payload.invoice_type = v.invoiceType
        payload.total = v.total
        payload.tax_total = v.taxTotal
      }
    } else {
      const t = document.record.value
      payload.territory = t.territory
      payload.tbai_identifier = t.identifier
      payload.signature_value = t.signatureValue
      payload.issue_date = t.issueDate
      payload.total = t.total
      payload.xml = t.xml
    }
    // A sale's document is final here (number, chain, QR; TicketBAI: signed, with its TBAI identifier): it
    // may be printed and cancelled while it waits for the authority. As docs/transactions-api-v1.md says: a Bizkaia invoice waits for
    // its LROE batch (pending_lroe), the others for their submission (pending_submission). A cancellation
    // is not cancellable and keeps the plain pending / processing / failed.
    const territory = document.record.system === 'ticketbai' ? document.record.value.territory : undefined
    const lroe = territory !== undefined && TERRITORY_RULES[territory].channel === 'lroe'
    const until = lroeHoldOf(lroeSchedule, territory, context.now)
    return {
      hash,
      state: JSON.stringify(made.state),
      record,
      fiscalId: document.fiscalId,
      payload,
      ...(input.type === 'sale'
        ? { initialStatus: lroe ? ('pending_lroe' as const) : ('pending_submission' as const) }
        : {}),
      ...(until ? { batchWindow: { name: 'lroe' as const, until } } : {}),
    }
  }
}

/**
 * The authorities of the transactions API's Spanish locations, one per location and environment
 * (taxpayer, territory), each as the one Spanish delivery client (delivery.ts) that /v2/sign uses too.
 */
class SpanishAuthorities {
  private readonly clients = new Map<string, AuthorityClient>()

  constructor(
    private readonly environment: Environment,
    private readonly options: SpanishFiscalizerOptions,
    private readonly pacer: SubmissionPacer,
  ) {}

  clientOf(location: LocationRecord): AuthorityClient {
    const key = `${location.id}:${this.environment}`
    const cached = this.clients.get(key)
    if (cached) return cached
    const client = new SpanishDelivery(this.authorityOf(location), spanishValueOf, answerOf)
    this.clients.set(key, client)
    return client
  }

  private authorityOf(location: LocationRecord): SpanishAuthority<SpanishRecord> {
    const c = location.countryConfig
    const territory = c.territory as Territory | undefined
    const tbai = territory ? this.options.endpoints?.ticketbai?.[territory] : undefined
    const certificate = this.environment === 'live' ? this.options.clientCertificate?.(location) : undefined
    const made = spanishAuthorityFor(
      {
        system: c.system === 'ticketbai' ? 'ticketbai' : 'verifactu',
        ...(territory ? { territory } : {}),
        taxpayer: { nif: String(c.nif), name: typeof c.name === 'string' ? c.name : location.name },
        environment: this.environment === 'live' ? 'production' : 'test',
        ...(certificate ? { certificate } : {}),
        endpoints: {
          ...(this.environment === 'live' && this.options.endpoints?.verifactu
            ? { verifactu: this.options.endpoints.verifactu }
            : {}),
          ...(this.environment === 'live' && tbai
            ? {
                ticketbai: tbai.submit,
                ticketbaiQuery: tbai.query,
                ...(tbai.cancel ? { ticketbaiCancel: tbai.cancel } : {}),
              }
            : {}),
        },
        ...(this.options.timeoutMs ? { timeoutMs: this.options.timeoutMs } : {}),
      },
      {
        ...(this.environment === 'test' && this.options.simulatorUrl
          ? { simulatorUrl: this.options.simulatorUrl }
          : {}),
        pacer: this.pacer,
        ...(this.options.clock ? { clock: this.options.clock } : {}),
      },
    )
    return made.authority as SpanishAuthority<SpanishRecord>
  }
}

const spanishValueOf = (record: SubmittedRecord): SpanishRecord =>
  parseSpanishRecord(record.record).record.value

/** The authority's statement as a transaction's response_payload.authority shows it. */
function answerOf(statement: SpanishStatement): AuthorityAnswer {
  const { waitSeconds, ...said } = statement
  return {
    status: 'registered',
    response: { ...said, ...(waitSeconds ? { wait_seconds: waitSeconds } : {}) },
  }
}

/** The fiscalizers to register: `createV1Runtime(storage, master, { fiscalizers: spanishFiscalizers(...) })`. */
export function spanishFiscalizers(options: SpanishFiscalizerOptions = {}) {
  const software = { ...FISCALBOX_SOFTWARE, ...options.software }
  const pacer = options.pacer ?? memoryPacer()
  const byEnvironment = new Map<Environment, SpanishAuthorities>()
  const clientFor = (location: LocationRecord, environment: Environment) => {
    let authorities = byEnvironment.get(environment)
    if (!authorities) {
      authorities = new SpanishAuthorities(environment, options, pacer)
      byEnvironment.set(environment, authorities)
    }
    return authorities.clientOf(location)
  }
  const seal = sealer(software, options)
  return {
    'ES:verifactu': new AuthorityFiscalizer('es-verifactu', seal, clientFor, { validateConfig }),
    'ES:ticketbai': new AuthorityFiscalizer('es-ticketbai', seal, clientFor, { validateConfig }),
  }
}
