import { randomBytes, randomUUID } from 'node:crypto'
import { ErrorCode, FiscalError, invalid } from '../../../core/errors.ts'
import type { UnitOfWork } from '../../../core/ports.ts'
import type { MasterKey } from '../../../core/secrets.ts'
import { CERTIFICATE_COLUMNS_TEXT, certificateText, checkFits, TSE_COLUMNS } from '../dsfinvk/limits.ts'
import type { DeStore } from '../market/ports.ts'
import { DEFAULT_REMOTE_TIMEOUT_MS, MAX_REMOTE_TIMEOUT_MS } from './bounds.ts'
import { type Exchange, refusalOf, SignDeClient } from './client.ts'
import { type RemoteAnswer, RemoteOperations, type RemotePlan } from './operations.ts'
import type { RemoteExportRecord, RemoteTseRecord, RemoteTseStore } from './ports.ts'

/** What the operator gives to put a DE cash box on a remote TSE (PUT /de/v1/remote-tse, `fiscalbox de remote-tse`). */
export interface RemoteTseSettings {
  baseUrl: string
  apiKey: string
  apiSecret: string
  /** An existing TSS to adopt; absent: a new one is created and initialized. */
  tssId?: string
  /** An existing client of that TSS to adopt; absent: a new one is registered. */
  clientId?: string
  /** The admin PIN of an adopted TSS, to register the client; fiscalbox sets (and seals) its own on a new TSS. */
  adminPin?: string
  timeoutMs?: number
}

/** A remote TSE as /de/v1/remote-tse shows it: never its secret or PIN. */
export interface RemoteTseView {
  base_url: string
  api_key: string
  tss_id: string
  client_id: string
  client_serial_number: string
  tss_serial_number: string
  signature_algorithm: string
  public_key: string
  timeout_ms: number
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const EXPORT_POLL_MS = 200

/** The remote TSE's refusal or silence during set-up or an export: the operator's call to retry. */
const remoteFailed = (what: string, exchange: Exchange) =>
  new FiscalError(
    ErrorCode.DeviceNotReachable,
    `the remote TSE ${what}: ${refusalOf(exchange)}`,
    undefined,
    exchange.kind === 'answered' ? { details: { status: exchange.status } } : undefined,
  )

function checkSettings(settings: RemoteTseSettings): void {
  let url: URL
  try {
    url = new URL(settings.baseUrl)
  } catch {
    throw invalid(
      'base_url',
      'must be an absolute http(s) URL, e.g. https://kassensichv-middleware.fiskaly.com',
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalid('base_url', 'must be an http or https URL')
  if (!settings.apiKey) throw invalid('api_key', 'must not be empty')
  if (!settings.apiSecret) throw invalid('api_secret', 'must not be empty')
  for (const [field, value] of [
    ['tss_id', settings.tssId],
    ['client_id', settings.clientId],
  ] as const)
    if (value !== undefined && !UUID.test(value)) throw invalid(field, 'must be a lower-case UUID')
  const timeout = settings.timeoutMs
  if (
    timeout !== undefined &&
    (!Number.isInteger(timeout) || timeout < 100 || timeout > MAX_REMOTE_TIMEOUT_MS)
  )
    throw invalid('timeout_ms', `must be an integer from 100 to ${MAX_REMOTE_TIMEOUT_MS}`)
}

/**
 * What the remote TSE says of the TSS and client goes into every DSFinV-K export of the cash box (tse.csv,
 * and the client serial as Z_KASSE_ID of every row): checked at set-up, before anything is stored.
 */
function checkExportColumns(tssId: string, clientId: string, clientSerial: string, tss: ApiTss): void {
  checkFits(clientSerial, 'client_id', TSE_COLUMNS.clientSerial, `the serial number of client ${clientId}`)
  const of = `of TSS ${tssId}`
  checkFits(tss.serial_number, 'tss_id', TSE_COLUMNS.serialNumber, `the serial number ${of}`)
  checkFits(tss.signature_algorithm, 'tss_id', TSE_COLUMNS.algorithm, `the signature algorithm ${of}`)
  checkFits(tss.public_key, 'tss_id', TSE_COLUMNS.publicKey, `the public key ${of}`)
  checkFits(
    certificateText(tss.certificate),
    'tss_id',
    CERTIFICATE_COLUMNS_TEXT,
    `the certificate ${of} (base64)`,
  )
}

/**
 * DE cash boxes on a certified cloud TSE that speaks the SIGN DE v2 API: its set-up (create or adopt the TSS
 * and client), the receipts' calls (through the market's external unit), and the TAR exports kept locally.
 */
export class RemoteTseService {
  constructor(
    readonly store: RemoteTseStore,
    private readonly cashboxes: DeStore,
    private readonly master: MasterKey,
  ) {}

  /**
   * Per cash box, its remote TSE as the last receipt's transaction read it, with a client for it: a
   * receipt's calls follow its seal at once, so they need neither a second read nor a decryption of the
   * secret (nor a new token key) each. A changed set-up is read by the next receipt's seal.
   */
  private readonly known = new Map<string, { record: RemoteTseRecord; client: SignDeClient }>()

  /** The cash box's remote TSE within the receipt's unit of work (its seal); its calls then use what it read. */
  async remoteIn(unit: UnitOfWork, queueId: string): Promise<RemoteTseRecord | undefined> {
    const record = await this.store.remoteIn(unit, queueId)
    if (record) this.clientOf(record)
    else this.known.delete(queueId)
    return record
  }

  private operationsOf(record: RemoteTseRecord): RemoteOperations {
    return new RemoteOperations(this.clientOf(record), record.tssId)
  }

  private clientOf(record: RemoteTseRecord): SignDeClient {
    const known = this.known.get(record.queueId)
    if (known && sameAccess(known.record, record)) return known.client
    const client = new SignDeClient({
      baseUrl: record.baseUrl,
      apiKey: record.apiKey,
      apiSecret: this.master.decrypt(record.apiSecretSealed).toString('utf8'),
      timeoutMs: record.timeoutMs,
    })
    this.known.set(record.queueId, { record, client })
    return client
  }

  private async recordOf(queueId: string): Promise<RemoteTseRecord> {
    const record = await this.store.remote(queueId)
    if (!record)
      throw new FiscalError(ErrorCode.MarketNotConfigured, 'this German cash box is not on a remote TSE')
    return record
  }

  async perform(plan: RemotePlan, signal?: AbortSignal): Promise<RemoteAnswer> {
    const record = this.known.get(plan.queueId)?.record ?? (await this.recordOf(plan.queueId))
    return this.operationsOf(record).perform(plan.operations, signal)
  }

  async recover(plan: RemotePlan, signal?: AbortSignal): Promise<RemoteAnswer | undefined> {
    return this.operationsOf(await this.recordOf(plan.queueId)).recover(plan.operations, signal)
  }

  /** The TSS as the remote TSE shows it now (its signature counter grows with every receipt). */
  async remoteTss(queueId: string): Promise<ApiTss & { signature_counter: string }> {
    const record = await this.recordOf(queueId)
    const body = await expectOk(
      this.clientOf(record).call('GET', `/tss/${record.tssId}`),
      'did not give the TSS',
    )
    return body as ApiTss & { signature_counter: string }
  }

  async view(queueId: string): Promise<RemoteTseView | undefined> {
    const record = await this.store.remote(queueId)
    return record && viewOf(record)
  }

  /**
   * Puts a cash box on a remote TSE: the TSS is created and initialized there unless an existing one is
   * named, the cash box registered as its client unless an existing client is named. The same settings again
   * change nothing; a cash box that already signs with another TSS keeps it (a TSE change is a new cash box).
   */
  async configure(
    cashbox: { id: string; queueId: string },
    settings: RemoteTseSettings,
  ): Promise<RemoteTseView> {
    checkSettings(settings)
    const current = await this.store.remote(cashbox.queueId)
    const box = await this.cashboxes.cashbox(cashbox.queueId)
    const tssId = settings.tssId ?? current?.tssId ?? randomUUID()
    const clientId = settings.clientId ?? current?.clientId ?? randomUUID()
    if (box && (box.tssId !== tssId || box.clientId !== clientId))
      throw new FiscalError(
        ErrorCode.Conflict,
        `this cash box already signs with TSS ${box.tssId} (client ${box.clientId}): a TSE change is a new cash box`,
        { field: 'tss_id', reason: 'differs from the TSS the cash box signs with' },
      )
    const timeoutMs = settings.timeoutMs ?? current?.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS
    const client = new SignDeClient({ ...settings, timeoutMs })
    const { tss, adminPin } = await this.initializedTss(client, tssId, settings.adminPin, current)
    const clientSerial = await this.registeredClient(client, tssId, clientId, cashbox.id, adminPin)
    checkExportColumns(tssId, clientId, clientSerial, tss)
    const pinToKeep = adminPin ?? settings.adminPin
    const record: RemoteTseRecord = {
      queueId: cashbox.queueId,
      baseUrl: settings.baseUrl.replace(/\/+$/, ''),
      apiKey: settings.apiKey,
      apiSecretSealed: this.master.encrypt(Buffer.from(settings.apiSecret, 'utf8')),
      adminPinSealed: pinToKeep
        ? this.master.encrypt(Buffer.from(pinToKeep, 'utf8'))
        : (current?.adminPinSealed ?? null),
      tssId,
      clientId,
      clientSerial,
      tssSerial: tss.serial_number,
      publicKey: tss.public_key,
      algorithm: tss.signature_algorithm,
      certificate: tss.certificate,
      timeoutMs,
      updatedAt: new Date().toISOString(),
    }
    await this.store.saveRemote(record)
    return viewOf(record)
  }

  /** The TSS, INITIALIZED: adopted as it is, or taken through CREATED and UNINITIALIZED with a PIN fiscalbox sets. */
  private async initializedTss(
    client: SignDeClient,
    tssId: string,
    givenPin: string | undefined,
    current: RemoteTseRecord | undefined,
  ): Promise<{ tss: ApiTss; adminPin: string | undefined }> {
    const path = `/tss/${tssId}`
    let read = await client.call('GET', path)
    if (read.kind === 'answered' && read.status === 401)
      throw invalid('api_secret', `the remote TSE refused api_key and api_secret (${refusalOf(read)})`)
    if (read.kind === 'answered' && read.status === 404) read = await client.call('PUT', path, {})
    if (read.kind !== 'answered' || read.status !== 200) throw remoteFailed(`did not give TSS ${tssId}`, read)
    let tss = read.body as ApiTss
    if (tss.state === 'INITIALIZED') return { tss, adminPin: givenPin }
    if (tss.state === 'DISABLED') throw invalid('tss_id', `TSS ${tssId} is DISABLED: it can sign no more`)
    let adminPin =
      givenPin ??
      (current?.adminPinSealed ? this.master.decrypt(current.adminPinSealed).toString() : undefined)
    if (tss.state === 'CREATED') {
      // A retried PUT of a CREATED TSS answers its PUK again: the set-up can be repeated after a failure.
      const created = await client.call('PUT', path, {})
      if (created.kind !== 'answered' || created.status !== 200)
        throw remoteFailed('did not create the TSS', created)
      const puk = (created.body as { admin_puk?: string }).admin_puk
      if (!puk) throw invalid('tss_id', `TSS ${tssId} is CREATED but the TSE gave no admin PUK`)
      await expectOk(client.call('PATCH', path, { state: 'UNINITIALIZED' }), 'did not personalize the TSS')
      adminPin = randomBytes(12).toString('base64url')
      await expectOk(
        client.call('PATCH', `${path}/admin`, { admin_puk: puk, new_admin_pin: adminPin }),
        'did not take the admin PIN',
      )
    }
    if (!adminPin)
      throw invalid('admin_pin', `TSS ${tssId} is ${tss.state}: its admin PIN is needed to initialize it`)
    await expectOk(
      client.call('POST', `${path}/admin/auth`, { admin_pin: adminPin }),
      'refused the admin PIN',
    )
    tss = (await expectOk(
      client.call('PATCH', path, { state: 'INITIALIZED' }),
      'did not initialize the TSS',
    )) as ApiTss
    return { tss, adminPin }
  }

  /** The cash box as a REGISTERED client of the TSS: adopted, or registered with the cash box id as its serial. */
  private async registeredClient(
    client: SignDeClient,
    tssId: string,
    clientId: string,
    serial: string,
    adminPin: string | undefined,
  ): Promise<string> {
    const path = `/tss/${tssId}/client/${clientId}`
    const read = await client.call('GET', path)
    if (read.kind === 'answered' && read.status === 200) {
      const existing = read.body as { serial_number: string; state: string }
      if (existing.state !== 'REGISTERED')
        throw invalid('client_id', `client ${clientId} is ${existing.state}`)
      return existing.serial_number
    }
    if (read.kind !== 'answered' || read.status !== 404)
      throw remoteFailed(`did not give client ${clientId}`, read)
    if (!adminPin) throw invalid('admin_pin', 'registering a client on an adopted TSS needs its admin PIN')
    await expectOk(
      client.call('POST', `/tss/${tssId}/admin/auth`, { admin_pin: adminPin }),
      'refused the admin PIN',
    )
    const registered = await expectOk(
      client.call('PUT', path, { serial_number: serial }),
      'did not register the client',
    )
    await client.call('POST', `/tss/${tssId}/admin/logout`, {})
    return (registered as { serial_number: string }).serial_number
  }

  /**
   * Pulls a TAR export of the whole TSS from the remote TSE (trigger, poll, download) and keeps it: the law
   * asks for ten years, TSE providers keep exports for weeks.
   */
  async pullExport(queueId: string, signal?: AbortSignal): Promise<RemoteExportRecord> {
    const record = await this.recordOf(queueId)
    const client = this.clientOf(record)
    const exportId = randomUUID()
    const path = `/tss/${record.tssId}/export/${exportId}`
    await expectOk(client.call('PUT', path, {}, signal), 'did not start the export')
    for (;;) {
      const state = (
        (await expectOk(client.call('GET', path, undefined, signal), 'lost the export')) as { state: string }
      ).state
      if (state === 'COMPLETED') break
      if (state !== 'PENDING' && state !== 'WORKING')
        throw new FiscalError(
          ErrorCode.DeviceNotReachable,
          `the remote TSE's export ${exportId} ended ${state}`,
        )
      await new Promise((resolve) => setTimeout(resolve, EXPORT_POLL_MS))
    }
    const file = await client.call('GET', `${path}/file`, undefined, signal)
    if (file.kind !== 'answered' || file.status !== 200)
      throw remoteFailed('did not give the export file', file)
    const pulled: RemoteExportRecord = {
      queueId,
      exportId,
      tssId: record.tssId,
      pulledAt: new Date().toISOString(),
      bytes: file.raw.length,
    }
    await this.store.insertExport(pulled, file.raw)
    return pulled
  }
}

interface ApiTss {
  state: string
  serial_number: string
  public_key: string
  signature_algorithm: string
  certificate: string
}

async function expectOk(exchange: Promise<Exchange>, what: string): Promise<unknown> {
  const result = await exchange
  if (result.kind !== 'answered' || result.status !== 200) throw remoteFailed(what, result)
  return result.body
}

/** The same TSE, credentials (sealed anew on every set-up) and timeout: the client made for one serves the other. */
const sameAccess = (a: RemoteTseRecord, b: RemoteTseRecord) =>
  a.baseUrl === b.baseUrl &&
  a.apiKey === b.apiKey &&
  a.apiSecretSealed === b.apiSecretSealed &&
  a.timeoutMs === b.timeoutMs &&
  a.tssId === b.tssId

const viewOf = (record: RemoteTseRecord): RemoteTseView => ({
  base_url: record.baseUrl,
  api_key: record.apiKey,
  tss_id: record.tssId,
  client_id: record.clientId,
  client_serial_number: record.clientSerial,
  tss_serial_number: record.tssSerial,
  signature_algorithm: record.algorithm,
  public_key: record.publicKey,
  timeout_ms: record.timeoutMs,
})
