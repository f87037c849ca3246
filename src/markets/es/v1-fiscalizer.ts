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
import type { CertificateMaterial } from '../../core/certificates/certificates.ts'
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
import { validateSpanishConfig } from './location-config.ts'
import type { TicketBaiSoftware } from './ticketbai/invoice.ts'
import { DEFAULT_LROE_AT, lroeHoldOf, parseLroeSchedule } from './ticketbai/lroe-window.ts'
import type { TicketBaiEndpoints } from './ticketbai/endpoints.ts'
import { TERRITORY_RULES, type Territory } from './ticketbai/territories.ts'
import type { SigningCredentials } from './ticketbai/xades.ts'
import type { ClientCertificate } from './transport.ts'
import { memoryPacer, type SubmissionPacer } from './verifactu/authority.ts'
import type { SoftwareSystem } from './verifactu/records.ts'

/**
 * The Spanish fiscalizers of the transactions API v1 (`ES:verifactu`, `ES:ticketbai`): a location's sale
 * becomes the document of its system when the transaction is stored (numbered, chained, QR code, fiscal
 * id), and the outbox submits it to the authority through the Spanish clients. The location's
 * `SpainState` (next number and chain) is the fiscalizer state of the location's chain row, so it is read
 * and written under the same lock and in the same commit as the record.
 */

/** The software identity written into every record (SistemaInformatico, TicketBAI Software). */
export interface SpanishSoftware {
  producerName: string
  producerNif: string
  name: string
  id: string
  version: string
  /** LicenciaTBAI (given to the software by the territories) */
  ticketbaiLicense: string
}

export const FISCALBOX_SOFTWARE: SpanishSoftware = {
  producerName: 'fiscalbox contributors',
  // A placeholder in the format of a NIF: set FISCALBOX_ES_PRODUCER_NIF to the producer's own.
  producerNif: 'B00000034',
  name: 'fiscalbox',
  id: 'FB',
  version: '0.1.0',
  ticketbaiLicense: 'TBAIFISCALBOX00',
}

export interface SpanishFiscalizerOptions {
  /** Where test-environment (fsk_test_) submissions go: the simulator's base URL. */
  simulatorUrl?: string
  /** Production endpoints (live keys): VERI*FACTU defaults to the AEAT's; TicketBAI must be configured. */
  endpoints?: { verifactu?: string; ticketbai?: Partial<Record<Territory, TicketBaiEndpoints>> }
  /**
   * TLS client certificate of live submissions when the location names no stored one (a location's
   * country_config.certificate_id, the taxpayer's or a representative's certificate, comes first).
   */
  clientCertificate?: (location: LocationRecord) => ClientCertificate | undefined
  /** TicketBAI signing credentials when the location names no stored certificate (the test sandbox's). */
  signingCredentials?: (location: LocationRecord, environment: Environment) => SigningCredentials | undefined
  /** Trusted roots of live endpoints instead of the system's: a simulator's or a private test endpoint's CA. */
  authorityCa?: string
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

/** The information system of VERI*FACTU records (SistemaInformatico): fiscalbox, in one installation. */
export const verifactuSystemOf = (software: SpanishSoftware, installationNumber: string): SoftwareSystem => ({
  producerName: software.producerName,
  producerNif: software.producerNif,
  name: software.name,
  id: software.id,
  version: software.version,
  installationNumber,
  onlyVerifactu: true,
  multipleTaxpayers: true,
  hasMultipleTaxpayers: true,
})

/** The software of TicketBAI documents (Software: licence, developer, name, version). */
export const ticketBaiSoftwareOf = (software: SpanishSoftware): TicketBaiSoftware => ({
  license: software.ticketbaiLicense,
  developerNif: software.producerNif,
  name: software.name,
  version: software.version,
})

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

/** Optional Spanish fields a fiscalizer (and the ES market of /v2/sign) reads beyond validateSpanishConfig's. */
export function validateConfig(config: Record<string, unknown>): void {
  validateSpanishConfig(config)
  const { series, name } = config
  if (series !== undefined && (typeof series !== 'string' || !/^[\x21-\x7e]{1,40}$/.test(series)))
    throw invalid('country_config.series', 'must be 1 to 40 printable ASCII characters without spaces')
  if (name !== undefined && (typeof name !== 'string' || name.trim().length === 0 || name.length > 120))
    throw invalid('country_config.name', "must be the issuer's legal name, 1 to 120 characters")
}

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

/**
 * A stored certificate fit for what the record needs: TicketBAI signs with RSA-SHA256, VERI*FACTU
 * authenticates with it (clientAuth). Refused at the seal, so the merchant hears of it at once.
 */
function usable(certificate: CertificateMaterial, use: 'signing' | 'tls_client'): CertificateMaterial {
  const field = `country_config.${'certificate_id'}`
  if (!certificate.uses.includes(use))
    throw invalid(
      field,
      `certificate ${certificate.certificateId} (${certificate.subject}) does not allow ${use === 'signing' ? 'signing' : 'TLS client authentication'}`,
    )
  if (use === 'signing' && certificate.key.asymmetricKeyType !== 'rsa')
    throw invalid(
      field,
      `TicketBAI signs with RSA-SHA256: certificate ${certificate.certificateId} has a ${certificate.key.asymmetricKeyType} key`,
    )
  if (certificate.notAfter.getTime() < Date.now())
    throw invalid(
      field,
      `certificate ${certificate.certificateId} expired on ${certificate.notAfter.toISOString()}: replace it (PUT /v1/certificates/${certificate.certificateId})`,
    )
  return certificate
}

function missingCertificate(location: LocationRecord, environment: Environment, what: string) {
  const named = location.countryConfig.certificate_id
  return invalid(
    'country_config.certificate_id',
    typeof named === 'string'
      ? `names certificate ${named}, which this account does not hold: import it with POST /v1/certificates`
      : `${environment} records of this location need the taxpayer's certificate to ${what}: import it (POST /v1/certificates) and name its id here`,
  )
}

const readState = (state: string | null): SpainState =>
  state ? (JSON.parse(state) as SpainState) : newSpainState()

function sealer(software: SpanishSoftware, options: SpanishFiscalizerOptions) {
  const lroeSchedule = parseLroeSchedule(options.lroeAt ?? DEFAULT_LROE_AT)
  return async (context: SealContext, input: FiscalInput): Promise<SealedRecord> => {
    const system = input.location.countryConfig.system === 'ticketbai' ? 'ticketbai' : 'verifactu'
    const fromStore =
      context.certificate && usable(context.certificate, system === 'ticketbai' ? 'signing' : 'tls_client')
    const credentials = fromStore
      ? { key: fromStore.key, certificate: fromStore.certificatePem }
      : options.signingCredentials?.(input.location, input.environment)
    const config = issuerConfig(input.location, input.environment, software, credentials)
    if (system === 'ticketbai' && !credentials)
      throw missingCertificate(input.location, input.environment, 'sign')
    if (
      system === 'verifactu' &&
      input.environment === 'live' &&
      !fromStore &&
      !options.clientCertificate?.(input.location)
    )
      throw missingCertificate(input.location, input.environment, 'authenticate to the AEAT')
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
  /** Per location: the client and the version of the stored certificate it was built with. */
  private readonly clients = new Map<string, { versionId: string | undefined; client: AuthorityClient }>()

  constructor(
    private readonly environment: Environment,
    private readonly options: SpanishFiscalizerOptions,
    private readonly pacer: SubmissionPacer,
  ) {}

  /**
   * A replaced certificate is a new version: the next submission gets a client built on it, while one
   * under way keeps the client (and TLS credentials) it started with.
   */
  clientOf(location: LocationRecord, stored: CertificateMaterial | undefined): AuthorityClient {
    const key = location.id
    const cached = this.clients.get(key)
    if (cached && cached.versionId === stored?.versionId) return cached.client
    const client = new SpanishDelivery(this.authorityOf(location, stored), spanishValueOf, answerOf)
    this.clients.set(key, { versionId: stored?.versionId, client })
    return client
  }

  private authorityOf(
    location: LocationRecord,
    stored: CertificateMaterial | undefined,
  ): SpanishAuthority<SpanishRecord> {
    const c = location.countryConfig
    const territory = c.territory as Territory | undefined
    const tbai = territory ? this.options.endpoints?.ticketbai?.[territory] : undefined
    const ca = this.environment === 'live' && this.options.authorityCa ? { ca: this.options.authorityCa } : {}
    const certificate: ClientCertificate | undefined = stored?.uses.includes('tls_client')
      ? { key: stored.keyPem, cert: stored.chainPem, ...ca }
      : this.environment === 'live'
        ? this.options.clientCertificate?.(location)
        : undefined
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
                ...(tbai.query ? { ticketbaiQuery: tbai.query } : {}),
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
  const clientFor = (
    location: LocationRecord,
    environment: Environment,
    certificate?: CertificateMaterial,
  ) => {
    let authorities = byEnvironment.get(environment)
    if (!authorities) {
      authorities = new SpanishAuthorities(environment, options, pacer)
      byEnvironment.set(environment, authorities)
    }
    return authorities.clientOf(location, certificate)
  }
  const seal = sealer(software, options)
  return {
    'ES:verifactu': new AuthorityFiscalizer('es-verifactu', seal, clientFor, { validateConfig }),
    'ES:ticketbai': new AuthorityFiscalizer('es-ticketbai', seal, clientFor, { validateConfig }),
  }
}
