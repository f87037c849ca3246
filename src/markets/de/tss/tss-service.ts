import { createHash } from 'node:crypto'
import { canonicalJson } from '../../../core/canonical-json.ts'
import { invalid } from '../../../core/errors.ts'
import { DeErrorCode } from '../errors.ts'
import type { UnitOfWork } from '../../../core/ports.ts'
import type { SigningKeys } from '../../../core/signing-keys.ts'
import type { MasterKey } from '../../../core/secrets.ts'
import { buildReceiptQr } from '../dsfinvk/receipt-qr.ts'
import { hashSecret, newPuk, secretMatches } from './admin-secrets.ts'
import { DEFAULT_TSS_ALGORITHM, TSS_ALGORITHMS, type TssAlgorithm } from './algorithms.ts'
import { type CertificateAuthority, issueTssCertificate, newCertificateAuthorities } from './certificates.ts'
import { notFound, tssError } from './errors.ts'
import { openTssSigner, newSealedTssKey, type TssSigner } from './keys.ts'
import { type LogBody, logMessage, type SystemData, signedPart } from './log-message.ts'
import {
  type ClientRecord,
  type ClientState,
  type ExportFilters,
  type ExportRecord,
  type ListQuery,
  type LogSelection,
  MAX_ACTIVE_TRANSACTIONS,
  MAX_CLIENTS,
  MAX_PIN_FAILURES,
  type Metadata,
  type MetadataPatch,
  patchMetadata,
  type TransactionRecord,
  type TransactionState,
  type TransactionView,
  type TssRecord,
  type TssState,
} from './model.ts'
import type { Page, TssStore, TssWork } from './ports.ts'
import { ADMIN_USER_ID, LOG_OUT_CAUSE, ROLE, systemLogs, UNBLOCK_RESULT } from './system-logs.ts'
import { CANCELLED_PROCESS, type ProcessData, processDataOf, type TxSchema } from './process-data.ts'

/** Who is calling: the SIGN DE credentials' organization (TSS of other organizations do not exist for it). */
export interface Caller {
  organizationId: string
  env: string
}

export interface TransactionResult {
  view: TransactionView
  metadata: Metadata
  latestRevision: number
}

export interface TransactionUpsert {
  state: TransactionState
  clientId: string
  schema?: TxSchema
  metadata?: MetadataPatch
}

const ADMIN_SESSION_S = 3600
const EXPORT_KEEP_S = 30 * 24 * 3600
const MAX_OPEN_EXPORTS = 10
const STALE_EXPORT_S = 300
/** Client serial numbers: the SIGN DE pattern, without '/' (and '_'), which export file names cannot carry. */
const CLIENT_SERIAL = /^[A-Za-z0-9 '()+,\-.:=?]{1,70}$/

/**
 * The software TSS (BSI TR-03151 semantics): lifecycle, admin PIN/PUK, clients, transactions, and one
 * signed log message per operation with one strictly increasing signature counter per TSS. Every
 * operation runs in one storage transaction that first locks the TSS row, so operations of one TSS are
 * serialized across nodes; on SQLite the group commit runs them one after another.
 */
export class TssService {
  private readonly signers = new Map<string, TssSigner>()
  private authorities: Promise<CertificateAuthority[]> | undefined

  constructor(
    private readonly store: TssStore,
    private readonly master: MasterKey,
    private readonly keys: SigningKeys,
    private readonly clock: () => number = Date.now,
  ) {}

  private now(): number {
    return Math.floor(this.clock() / 1000)
  }

  // ---- certificates -------------------------------------------------------------------------------

  /** The installation's root CA and sub-CA, created by the first node that needs them. */
  certificateAuthorities(): Promise<CertificateAuthority[]> {
    this.authorities ??= (async () => {
      const names = ['root', 'sub'] as const
      const stored = await Promise.all(names.map((name) => this.store.secret(`ca-${name}`)))
      if (stored.every(Boolean)) return names.map((name, i) => toAuthority(name, stored[i]))
      const fresh = await newCertificateAuthorities(this.master)
      // Both or neither: the sub-CA is signed by this root. A concurrent creator's pair wins if it came first.
      const root = fresh[0] as CertificateAuthority
      const sub = fresh[1] as CertificateAuthority
      const kept = await this.store.putSecretIfAbsent(
        'ca-root',
        root.certificate.toString('base64'),
        root.privateKeyEncrypted,
      )
      if (kept.sealed !== root.privateKeyEncrypted) {
        const otherSub = await waitForSecret(this.store, 'ca-sub')
        return [toAuthority('root', kept), toAuthority('sub', otherSub)]
      }
      await this.store.putSecretIfAbsent(
        'ca-sub',
        sub.certificate.toString('base64'),
        sub.privateKeyEncrypted,
      )
      return fresh
    })().catch((error: unknown) => {
      this.authorities = undefined
      throw error
    })
    return this.authorities
  }

  /** Each TSS in service with its certificate chain (DER): its leaf, the sub-CA and the root that issued it. */
  async certificateChains(): Promise<
    { tssId: string; organizationId: string; leaf: Buffer; sub: Buffer; root: Buffer }[]
  > {
    const tss = await this.store.tssInService()
    if (tss.length === 0) return []
    const authorities = await this.certificateAuthorities()
    const root = authorities.find((a) => a.name === 'root')
    const sub = authorities.find((a) => a.name === 'sub')
    if (!root || !sub) throw new Error('the installation has no TSS certificate authorities')
    return tss.map((t) => ({
      tssId: t.id,
      organizationId: t.organizationId,
      leaf: Buffer.from(t.certificate, 'base64'),
      sub: sub.certificate,
      root: root.certificate,
    }))
  }

  // ---- TSS ----------------------------------------------------------------------------------------

  /**
   * Creates a TSS in state CREATED with its key pair and certificate. The PUK is answered while the TSS is
   * CREATED (also to a retried PUT) and never again; only its hash is kept after that.
   */
  async createTss(
    caller: Caller,
    id: string,
    input: { metadata?: Metadata; description?: string; algorithm?: TssAlgorithm },
  ): Promise<{ tss: TssRecord; adminPuk: string | null }> {
    const existing = await this.store.getTss(id)
    if (existing) return this.existingCreate(caller, existing)
    const { tss, puk } = await this.newTss(caller, id, input)
    const inserted = await this.store
      .run((work) => work.insertTss(tss))
      .catch((error: unknown) => {
        this.keys.discard(tss.privateKeyEncrypted)
        throw error
      })
    if (!inserted) {
      // Another request created this TSS first: its key is that one's, a key made in a token here goes.
      this.keys.discard(tss.privateKeyEncrypted)
      return this.existingCreate(caller, await this.requireTss(caller, id))
    }
    return { tss, adminPuk: puk }
  }

  /** A new TSS record: key pair, certificate from the sub-CA, PUK. Nothing is stored yet. */
  private async newTss(
    caller: Caller,
    id: string,
    input: { metadata?: Metadata; description?: string; algorithm?: TssAlgorithm },
  ): Promise<{ tss: TssRecord; puk: string }> {
    const algorithm = input.algorithm ?? DEFAULT_TSS_ALGORITHM
    const key = newSealedTssKey(algorithm, this.keys, `fiscalbox TSS ${id}`)
    const authorities = await this.certificateAuthorities()
    const sub = authorities.find((a) => a.name === 'sub') as CertificateAuthority
    const certificate = await issueTssCertificate(sub, key.publicKeySpki, key.serialNumber, this.master)
    const puk = newPuk()
    const now = this.now()
    const tss: TssRecord = {
      id,
      organizationId: caller.organizationId,
      env: caller.env,
      state: 'CREATED',
      // As the commercial service does: a TSS has a description from the start (a POS may print it).
      description: input.description ?? `fiscalbox TSS ${id}`,
      metadata: input.metadata ?? {},
      algorithm,
      publicKey: key.publicPoint.toString('base64'),
      serialNumber: key.serialNumber.toString('hex'),
      privateKeyEncrypted: key.privateKeyEncrypted,
      certificate: certificate.toString('base64'),
      adminPukHash: hashSecret(puk),
      adminPukEncrypted: this.master.encrypt(Buffer.from(puk)),
      adminPinHash: null,
      adminPinFailures: 0,
      adminSessionUntil: null,
      signatureCounter: 0,
      transactionCounter: 0,
      numberRegisteredClients: 0,
      numberActiveTransactions: 0,
      lastLogTime: now,
      timeCreation: now,
      timeUninit: null,
      timeInit: null,
      timeDisable: null,
    }
    return { tss, puk }
  }

  private existingCreate(caller: Caller, tss: TssRecord): { tss: TssRecord; adminPuk: string | null } {
    if (tss.organizationId !== caller.organizationId)
      throw tssError(DeErrorCode.TssConflict, `a TSS with id ${tss.id} exists already`)
    const adminPuk =
      tss.state === 'CREATED' && tss.adminPukEncrypted
        ? this.master.decrypt(tss.adminPukEncrypted).toString()
        : null
    return { tss, adminPuk }
  }

  async getTss(caller: Caller, id: string): Promise<TssRecord> {
    return this.requireTss(caller, id)
  }

  listTss(caller: Caller, query: ListQuery): Promise<Page<TssRecord>> {
    return this.store.listTss(caller.organizationId, query)
  }

  private async requireTss(caller: Caller, id: string): Promise<TssRecord> {
    const tss = await this.store.getTss(id)
    if (!tss || tss.organizationId !== caller.organizationId) throw notFound('TSS', `no TSS ${id}`)
    return tss
  }

  private async lockTss(work: TssWork, caller: Caller, id: string): Promise<TssRecord> {
    const tss = await work.lockTss(id)
    if (!tss || tss.organizationId !== caller.organizationId) throw notFound('TSS', `no TSS ${id}`)
    return tss
  }

  /** PATCH /tss: state transitions (admin needed for INITIALIZED and DISABLED), description, metadata. */
  updateTss(
    caller: Caller,
    id: string,
    input: { state?: TssState; description?: string; metadata?: MetadataPatch },
  ): Promise<TssRecord> {
    return this.store.run((work) => this.updateTssIn(work, caller, id, input, false))
  }

  private async updateTssIn(
    work: TssWork,
    caller: Caller,
    id: string,
    input: { state?: TssState; description?: string; metadata?: MetadataPatch },
    trusted: boolean,
  ): Promise<TssRecord> {
    const tss = await this.lockTss(work, caller, id)
    const now = this.now()
    if (input.state && input.state !== tss.state) {
      const from = tss.state
      const to = input.state
      const allowed =
        (from === 'CREATED' && to === 'UNINITIALIZED') ||
        (from === 'UNINITIALIZED' && (to === 'INITIALIZED' || to === 'DISABLED')) ||
        (from === 'INITIALIZED' && to === 'DISABLED')
      if (!allowed) throw tssError(DeErrorCode.IllegalTssStateChange, `a TSS cannot go from ${from} to ${to}`)
      if (to !== 'UNINITIALIZED' && !trusted) this.requireAdmin(tss, now)
      tss.state = to
      if (to === 'UNINITIALIZED') {
        tss.timeUninit = now
        // The PUK has been shown; from now on only its hash exists.
        tss.adminPukEncrypted = null
        await this.appendLog(work, tss, {
          kind: 'audit',
          seAuditData: Buffer.from(
            `fiscalbox TSS ${tss.id} personalized: ${tss.algorithm}, serial ${tss.serialNumber}`,
          ),
        })
      } else if (to === 'INITIALIZED') {
        tss.timeInit = now
        await this.appendSystemLog(work, tss, systemLogs.initialize(input.description ?? tss.description))
      } else {
        tss.timeDisable = now
        tss.adminSessionUntil = null
        await this.appendSystemLog(work, tss, systemLogs.disableSecureElement(now))
      }
    }
    if (input.description !== undefined) tss.description = input.description
    if (input.metadata) tss.metadata = patchMetadata(tss.metadata, input.metadata)
    await work.saveTss(tss)
    return tss
  }

  private pinBlocked(tss: TssRecord): boolean {
    return tss.adminPinHash === null || tss.adminPinFailures >= MAX_PIN_FAILURES
  }

  private requireAdmin(tss: TssRecord, now: number): void {
    if (tss.adminSessionUntil !== null && tss.adminSessionUntil > now) return
    if (this.pinBlocked(tss))
      throw tssError(
        DeErrorCode.AdminPinBlocked,
        'the admin PIN is blocked: set a new one with the PUK (PATCH /tss/{tss_id}/admin)',
      )
    throw tssError(DeErrorCode.AdminNotAuthenticated, 'log in as admin first (POST /tss/{tss_id}/admin/auth)')
  }

  /** Sets a new admin PIN with the PUK; this is also what unblocks a blocked PIN. */
  async changeAdminPin(caller: Caller, id: string, puk: string, newPin: string): Promise<void> {
    if (newPin.length < 6) throw invalid('new_admin_pin', 'must have at least 6 characters')
    const failure = await this.store.run(async (work) => {
      const tss = await this.lockTss(work, caller, id)
      if (tss.state === 'DISABLED') throw tssError(DeErrorCode.TssDisabled, `TSS ${id} is disabled`)
      const ok = secretMatches(puk, tss.adminPukHash)
      await this.appendSystemLog(
        work,
        tss,
        systemLogs.unblockUser(ADMIN_USER_ID, ok ? UNBLOCK_RESULT.ok : UNBLOCK_RESULT.failed),
      )
      if (ok) {
        tss.adminPinHash = hashSecret(newPin)
        tss.adminPinFailures = 0
      }
      await work.saveTss(tss)
      return !ok
    })
    if (failure) throw tssError(DeErrorCode.ChangeAdminPinFailed, 'the admin PUK is wrong')
  }

  /** Admin login. Every attempt is logged (authenticateUser); the fifth failure blocks the PIN. */
  async authenticateAdmin(caller: Caller, id: string, pin: string): Promise<void> {
    const outcome = await this.store.run(async (work) => {
      const tss = await this.lockTss(work, caller, id)
      if (tss.state === 'DISABLED') throw tssError(DeErrorCode.TssDisabled, `TSS ${id} is disabled`)
      if (this.pinBlocked(tss)) return 'blocked' as const
      const ok = secretMatches(pin, tss.adminPinHash as string)
      await this.appendSystemLog(work, tss, systemLogs.authenticateUser(ADMIN_USER_ID, ROLE.admin, ok))
      if (ok) {
        tss.adminPinFailures = 0
        tss.adminSessionUntil = this.now() + ADMIN_SESSION_S
      } else {
        tss.adminPinFailures += 1
      }
      await work.saveTss(tss)
      return ok ? ('ok' as const) : ('failed' as const)
    })
    if (outcome === 'blocked')
      throw tssError(
        DeErrorCode.AdminPinBlocked,
        'the admin PIN is blocked: set a new one with the PUK (PATCH /tss/{tss_id}/admin)',
      )
    if (outcome === 'failed') throw tssError(DeErrorCode.AdminLoginFailed, 'wrong admin PIN')
  }

  /** Ends the admin session; safe when nobody is logged in (then nothing is logged). */
  async logoutAdmin(caller: Caller, id: string): Promise<void> {
    await this.store.run(async (work) => {
      const tss = await this.lockTss(work, caller, id)
      if (tss.adminSessionUntil === null) return
      // A session that ran out ended by timeout, whenever the logout call comes.
      const cause = tss.adminSessionUntil > this.now() ? LOG_OUT_CAUSE.user : LOG_OUT_CAUSE.timeout
      tss.adminSessionUntil = null
      if (tss.state !== 'DISABLED')
        await this.appendSystemLog(work, tss, systemLogs.logOut(ADMIN_USER_ID, cause))
      await work.saveTss(tss)
    })
  }

  // ---- clients ------------------------------------------------------------------------------------

  upsertClient(
    caller: Caller,
    tssId: string,
    clientId: string,
    input: { serialNumber: string; metadata?: Metadata },
  ): Promise<ClientRecord> {
    return this.store.run((work) => this.upsertClientIn(work, caller, tssId, clientId, input, false))
  }

  private async upsertClientIn(
    work: TssWork,
    caller: Caller,
    tssId: string,
    clientId: string,
    input: { serialNumber: string; metadata?: Metadata },
    trusted: boolean,
  ): Promise<ClientRecord> {
    if (!CLIENT_SERIAL.test(input.serialNumber))
      throw tssError(
        DeErrorCode.IllegalClientSerial,
        "serial_number: 1 to 70 characters of A-Z a-z 0-9 space ' ( ) + , - . : = ? (no / or _)",
      )
    const tss = await this.lockTss(work, caller, tssId)
    const existing = await work.findClient(clientId)
    if (existing) {
      if (existing.tssId !== tssId || existing.serialNumber !== input.serialNumber)
        throw tssError(
          DeErrorCode.ClientConflict,
          `client ${clientId} exists with another TSS or serial number`,
        )
      return existing
    }
    this.requireUsable(tss)
    if (!trusted) this.requireAdmin(tss, this.now())
    if (await work.findClientBySerial(tssId, input.serialNumber))
      throw tssError(
        DeErrorCode.ClientConflict,
        `serial number ${input.serialNumber} is taken by another client of this TSS`,
      )
    if (tss.numberRegisteredClients >= MAX_CLIENTS)
      throw tssError(DeErrorCode.ClientLimitReached, `a TSS has at most ${MAX_CLIENTS} registered clients`)
    const now = this.now()
    const client: ClientRecord = {
      id: clientId,
      tssId,
      serialNumber: input.serialNumber,
      state: 'REGISTERED',
      metadata: input.metadata ?? {},
      timeCreation: now,
      timeUpdate: now,
    }
    await this.appendSystemLog(work, tss, systemLogs.registerClient(client.serialNumber))
    tss.numberRegisteredClients += 1
    await work.insertClient(client)
    await work.saveTss(tss)
    return client
  }

  async updateClient(
    caller: Caller,
    tssId: string,
    clientId: string,
    input: { state?: ClientState; metadata?: MetadataPatch },
  ): Promise<ClientRecord> {
    return this.store.run(async (work) => {
      const tss = await this.lockTss(work, caller, tssId)
      const client = await work.findClient(clientId)
      if (!client || client.tssId !== tssId) throw notFound('CLIENT', `no client ${clientId} in TSS ${tssId}`)
      if (input.state && input.state !== client.state) {
        this.requireUsable(tss)
        this.requireAdmin(tss, this.now())
        if (input.state === 'REGISTERED' && tss.numberRegisteredClients >= MAX_CLIENTS)
          throw tssError(
            DeErrorCode.ClientLimitReached,
            `a TSS has at most ${MAX_CLIENTS} registered clients`,
          )
        const log = input.state === 'REGISTERED' ? systemLogs.registerClient : systemLogs.deregisterClient
        await this.appendSystemLog(work, tss, log(client.serialNumber))
        tss.numberRegisteredClients += input.state === 'REGISTERED' ? 1 : -1
        client.state = input.state
        await work.saveTss(tss)
      }
      if (input.metadata) client.metadata = patchMetadata(client.metadata, input.metadata)
      client.timeUpdate = this.now()
      await work.saveClient(client)
      return client
    })
  }

  async getClient(caller: Caller, clientId: string, tssId?: string): Promise<ClientRecord> {
    const client = await this.store.getClient(clientId)
    const tss = client && (await this.store.getTss(client.tssId))
    if (!client || !tss || tss.organizationId !== caller.organizationId || (tssId && client.tssId !== tssId))
      throw notFound('CLIENT', `no client ${clientId}`)
    return client
  }

  async listClients(caller: Caller, query: ListQuery, tssId?: string): Promise<Page<ClientRecord>> {
    if (tssId) await this.requireTss(caller, tssId)
    return this.store.listClients({ organizationId: caller.organizationId, tssId }, query)
  }

  private requireUsable(tss: TssRecord): void {
    if (tss.state === 'DISABLED') throw tssError(DeErrorCode.TssDisabled, `TSS ${tss.id} is disabled`)
    if (tss.state !== 'INITIALIZED')
      throw tssError(DeErrorCode.TssNotInitialized, `TSS ${tss.id} is ${tss.state}, not INITIALIZED`)
  }

  // ---- transactions -------------------------------------------------------------------------------

  /**
   * PUT /tss/{tss_id}/tx/{tx_id}?tx_revision=N. Revision 1 starts the transaction; each later revision
   * updates it (ACTIVE) or ends it (FINISHED, CANCELLED) with one signed log message. Repeating a revision
   * with the same body answers what it answered the first time and signs nothing.
   */
  upsertTransaction(
    caller: Caller,
    tssId: string,
    txId: string,
    revision: number,
    input: TransactionUpsert,
  ): Promise<TransactionResult> {
    return this.store.run((work) => this.upsertIn(work, caller, tssId, txId, revision, input))
  }

  /**
   * The TSS operations inside another unit of work (a receipt's on /v2/sign: the DE market passes
   * `context.unit`): the log messages are committed with the receipt, and the TSS row lock is taken
   * after the queue's.
   */
  within(unit: UnitOfWork) {
    const work = this.store.within(unit)
    return {
      /**
       * Creates the TSS in this unit (nothing happens if it exists). Call certificateAuthorities() once
       * outside any unit first (at start-up): creating them writes in a transaction of its own.
       */
      createTss: async (
        caller: Caller,
        id: string,
        input: { algorithm?: TssAlgorithm; description?: string } = {},
      ) => {
        const existing = await work.lockTss(id)
        if (existing) return existing
        if (!this.authorities)
          throw new Error('TssService.certificateAuthorities() must run before within(unit).createTss')
        const { tss } = await this.newTss(caller, id, input)
        await work.insertTss(tss)
        return tss
      },
      /** State changes without admin login: the caller (a market inside a receipt) acts as the operator. */
      updateTss: (
        caller: Caller,
        id: string,
        input: { state?: TssState; description?: string; metadata?: MetadataPatch },
      ) => this.updateTssIn(work, caller, id, input, true),
      registerClient: (caller: Caller, tssId: string, clientId: string, serialNumber: string) =>
        this.upsertClientIn(work, caller, tssId, clientId, { serialNumber }, true),
      upsertTransaction: (
        caller: Caller,
        tssId: string,
        txId: string,
        revision: number,
        input: TransactionUpsert,
      ) => this.upsertIn(work, caller, tssId, txId, revision, input),
    }
  }

  private async upsertIn(
    work: TssWork,
    caller: Caller,
    tssId: string,
    txId: string,
    revision: number,
    input: TransactionUpsert,
  ): Promise<TransactionResult> {
    if (!Number.isSafeInteger(revision) || revision < 1)
      throw invalid('tx_revision', 'must be an integer >= 1')
    const requestHash = createHash('sha256').update(canonicalJson(input)).digest('hex')
    const tss = await this.lockTss(work, caller, tssId)
    const existing = await work.findTransaction(tssId, txId)
    if (existing && revision <= existing.latestRevision) {
      const done = await work.findRevision(tssId, txId, revision)
      if (done && done.requestHash === requestHash)
        return {
          view: JSON.parse(done.response) as TransactionView,
          metadata: existing.metadata,
          latestRevision: existing.latestRevision,
        }
      throw tssError(
        DeErrorCode.PendingTxConflict,
        `revision ${revision} of transaction ${txId} exists with another body`,
      )
    }
    this.requireUsable(tss)
    const client = await work.findClient(input.clientId)
    if (!client || client.tssId !== tssId)
      throw tssError(DeErrorCode.ClientNotFound, `no client ${input.clientId} in TSS ${tssId}`)
    if (client.state !== 'REGISTERED')
      throw tssError(DeErrorCode.ClientDeregistered, `client ${input.clientId} is deregistered`)
    const now = this.now()
    let tx: TransactionRecord
    let process: ProcessData
    let operation: 'StartTransaction' | 'UpdateTransaction' | 'FinishTransaction'
    if (!existing) {
      if (revision !== 1) throw tssError(DeErrorCode.TxUpsert, 'a transaction starts with tx_revision=1')
      if (input.state !== 'ACTIVE')
        throw tssError(DeErrorCode.TxUpsert, 'a transaction starts in state ACTIVE')
      if (input.schema)
        throw tssError(DeErrorCode.TxUpsert, 'revision 1 starts the transaction and carries no schema')
      if (tss.numberActiveTransactions >= MAX_ACTIVE_TRANSACTIONS)
        throw tssError(
          DeErrorCode.TxLimitReached,
          `a TSS has at most ${MAX_ACTIVE_TRANSACTIONS} ACTIVE transactions`,
        )
      tss.transactionCounter += 1
      tss.numberActiveTransactions += 1
      tx = {
        tssId,
        id: txId,
        number: tss.transactionCounter,
        clientId: client.id,
        state: 'ACTIVE',
        latestRevision: 1,
        schemaKind: null,
        metadata: patchMetadata({}, input.metadata ?? {}),
        timeStart: now,
        timeEnd: null,
      }
      process = { kind: 'standard_v1', processType: '', processData: Buffer.alloc(0) }
      operation = 'StartTransaction'
    } else {
      tx = existing
      if (revision !== tx.latestRevision + 1)
        throw tssError(
          DeErrorCode.TxUpsert,
          `the next revision of transaction ${txId} is ${tx.latestRevision + 1}`,
        )
      if (tx.state !== 'ACTIVE')
        throw tssError(DeErrorCode.TxUpsert, `transaction ${txId} is ${tx.state} already`)
      if (tx.clientId !== client.id)
        throw tssError(DeErrorCode.TxUpsert, `transaction ${txId} belongs to another client`)
      if (input.state === 'CANCELLED') {
        process = CANCELLED_PROCESS
      } else {
        if (!input.schema)
          throw tssError(DeErrorCode.TxNoTypeDefined, 'send a schema (standard_v1 or raw) with this revision')
        process = processDataOf(input.schema)
        if (tx.schemaKind && tx.schemaKind !== process.kind)
          throw tssError(
            DeErrorCode.TxIllegalTypeChange,
            `transaction ${txId} uses ${tx.schemaKind}, not ${process.kind}`,
          )
        tx.schemaKind = process.kind
      }
      operation = input.state === 'ACTIVE' ? 'UpdateTransaction' : 'FinishTransaction'
      tx.latestRevision = revision
      tx.state = input.state
      if (input.metadata) tx.metadata = patchMetadata(tx.metadata, input.metadata)
    }
    const log = await this.appendLog(
      work,
      tss,
      {
        kind: 'transaction',
        data: {
          operationType: operation,
          clientId: client.serialNumber,
          processData: process.processData,
          processType: process.processType,
          transactionNumber: tx.number,
        },
      },
      { transactionNumber: tx.number, clientSerial: client.serialNumber },
    )
    if (operation === 'FinishTransaction') {
      tx.timeEnd = log.logTime
      tss.numberActiveTransactions -= 1
    }
    if (operation === 'StartTransaction') tx.timeStart = log.logTime
    const view: TransactionView = {
      tssId,
      tssSerialNumber: tss.serialNumber,
      id: txId,
      number: tx.number,
      revision,
      state: tx.state,
      clientId: client.id,
      clientSerialNumber: client.serialNumber,
      timeStart: tx.timeStart,
      timeEnd: tx.timeEnd,
      log: { operation: operation.replace('Transaction', '') as 'Start', timestamp: log.logTime },
      signature: {
        value: log.signature.toString('base64'),
        algorithm: tss.algorithm,
        counter: log.signatureCounter,
        publicKey: tss.publicKey,
      },
      schema: input.state === 'CANCELLED' ? null : (input.schema ?? null),
      processType: process.processType,
      processData: process.processData.toString('base64'),
      qrCodeData:
        operation === 'FinishTransaction'
          ? buildReceiptQr({
              clientSerial: client.serialNumber,
              processType: process.processType,
              processData: process.processData.toString('utf8'),
              transactionNumber: BigInt(tx.number),
              signatureCounter: BigInt(log.signatureCounter),
              startTime: tx.timeStart,
              endTime: log.logTime,
              signatureAlgorithm: tss.algorithm,
              logTimeFormat: 'unixTime',
              signature: log.signature,
              publicKey: Buffer.from(tss.publicKey, 'base64'),
            })
          : null,
    }
    if (existing) await work.saveTransaction(tx)
    else await work.insertTransaction(tx)
    await work.insertRevision(tssId, txId, revision, requestHash, JSON.stringify(view))
    await work.saveTss(tss)
    return { view, metadata: tx.metadata, latestRevision: tx.latestRevision }
  }

  async getTransaction(
    caller: Caller,
    tssId: string,
    idOrNumber: string,
    revision?: number,
  ): Promise<TransactionResult> {
    await this.requireTss(caller, tssId)
    const tx = await this.store.getTransaction(tssId, idOrNumber)
    if (!tx) throw notFound('TX', `no transaction ${idOrNumber} in TSS ${tssId}`)
    const wanted = revision ?? tx.latestRevision
    const response = await this.store.getRevisionResponse(tssId, tx.id, wanted)
    if (!response)
      throw tssError(DeErrorCode.TxRevisionNotFound, `transaction ${tx.id} has no revision ${wanted}`)
    return {
      view: JSON.parse(response) as TransactionView,
      metadata: tx.metadata,
      latestRevision: tx.latestRevision,
    }
  }

  async listTransactions(
    caller: Caller,
    query: ListQuery,
    filter: { tssId?: string; clientId?: string } = {},
  ): Promise<Page<TransactionResult>> {
    if (filter.tssId) await this.requireTss(caller, filter.tssId)
    if (filter.clientId) await this.getClient(caller, filter.clientId, filter.tssId)
    const page = await this.store.listTransactions(
      { organizationId: caller.organizationId, ...filter },
      query,
    )
    const data = await Promise.all(
      page.data.map(async (tx) => {
        const response = await this.store.getRevisionResponse(tx.tssId, tx.id, tx.latestRevision)
        return {
          view: JSON.parse(response as string) as TransactionView,
          metadata: tx.metadata,
          latestRevision: tx.latestRevision,
        }
      }),
    )
    return { data, count: page.count }
  }

  async updateTransactionMetadata(
    caller: Caller,
    tssId: string,
    idOrNumber: string,
    metadata: MetadataPatch,
  ): Promise<Metadata> {
    await this.requireTss(caller, tssId)
    const found = await this.store.getTransaction(tssId, idOrNumber)
    if (!found) throw notFound('TX', `no transaction ${idOrNumber} in TSS ${tssId}`)
    return this.store.run(async (work) => {
      await this.lockTss(work, caller, tssId)
      const tx = (await work.findTransaction(tssId, found.id)) as TransactionRecord
      tx.metadata = patchMetadata(tx.metadata, metadata)
      await work.saveTransaction(tx)
      return tx.metadata
    })
  }

  /** The signed log message of a transaction's revision (GET .../tx/{id}/log). */
  async transactionLog(
    caller: Caller,
    tssId: string,
    idOrNumber: string,
    revision?: number,
  ): Promise<Buffer> {
    const { view } = await this.getTransaction(caller, tssId, idOrNumber, revision)
    const log = await this.store.findLogByCounter(tssId, view.signature.counter)
    if (!log) throw notFound('TX', `no log message for transaction ${idOrNumber}`)
    return log.message
  }

  // ---- exports ------------------------------------------------------------------------------------

  async triggerExport(
    caller: Caller,
    tssId: string,
    exportId: string,
    filters: ExportFilters,
  ): Promise<ExportRecord> {
    const record = await this.store.run(async (work) => {
      const tss = await this.lockTss(work, caller, tssId)
      const existing = await work.findExport(tssId, exportId)
      if (existing) return existing
      if (tss.state !== 'INITIALIZED' && tss.state !== 'DISABLED')
        throw tssError(
          DeErrorCode.ExportIllegalTssState,
          `TSS ${tssId} is ${tss.state}: export needs INITIALIZED or DISABLED`,
        )
      if ((await work.countOpenExports(tssId)) >= MAX_OPEN_EXPORTS)
        throw tssError(
          DeErrorCode.TooManyExports,
          `at most ${MAX_OPEN_EXPORTS} exports per TSS may be PENDING or WORKING`,
        )
      const created: ExportRecord = {
        tssId,
        id: exportId,
        state: 'PENDING',
        filters,
        exception: null,
        uptoSignatureCounter: null,
        recordCount: null,
        metadata: {},
        timeRequest: this.now(),
        timeStart: null,
        timeEnd: null,
        timeExpiration: null,
      }
      await work.insertExport(created)
      return created
    })
    return record
  }

  /**
   * Runs a PENDING export: fixes the newest signature counter (the file never grows afterwards), checks
   * that records exist and are not too many, and completes it. The TAR is streamed from the log table on
   * download, so no file is kept. Claiming is a conditional state change: one node runs each export.
   */
  async runExport(tssId: string, exportId: string): Promise<ExportRecord | undefined> {
    const claimed = await this.store.run(async (work) => {
      const tss = await work.lockTss(tssId)
      const record = await work.findExport(tssId, exportId)
      if (!tss || !record) return undefined
      // A WORKING export whose node went away mid-run is taken over after a while.
      const stale = record.state === 'WORKING' && (record.timeStart ?? 0) < this.now() - STALE_EXPORT_S
      if (record.state !== 'PENDING' && !stale) return undefined
      record.state = 'WORKING'
      record.timeStart = this.now()
      record.uptoSignatureCounter = tss.signatureCounter
      await work.saveExport(record)
      return record
    })
    if (!claimed) return undefined
    const selection = await this.selectionOf(claimed)
    const count = selection ? await this.store.countLogs(selection) : 0
    return this.store.run(async (work) => {
      await work.lockTss(tssId)
      const record = await work.findExport(tssId, exportId)
      // Another node took it over (or it was cancelled) meanwhile: its answer stands.
      if (!record || record.state !== 'WORKING' || record.timeStart !== claimed.timeStart) return record
      const now = this.now()
      record.recordCount = count
      record.timeEnd = now
      if (count === 0) {
        record.state = 'ERROR'
        record.exception = 'E_NO_DATA_AVAILABLE'
      } else if (count > record.filters.maximumNumberRecords) {
        record.state = 'ERROR'
        record.exception = 'E_TOO_MANY_RECORDS'
      } else {
        record.state = 'COMPLETED'
        record.timeExpiration = now + EXPORT_KEEP_S
      }
      await work.saveExport(record)
      return record
    })
  }

  private async selectionOf(record: ExportRecord): Promise<LogSelection | undefined> {
    const selection: LogSelection = {
      tssId: record.tssId,
      uptoSignatureCounter: record.uptoSignatureCounter ?? 0,
      filters: record.filters,
    }
    if (record.filters.clientId) {
      const client = await this.store.getClient(record.filters.clientId)
      if (!client || client.tssId !== record.tssId) return undefined
      selection.clientSerial = client.serialNumber
    }
    return selection
  }

  async getExport(caller: Caller, tssId: string, exportId: string): Promise<ExportRecord> {
    await this.requireTss(caller, tssId)
    const record = await this.store.getExport(tssId, exportId)
    if (!record) throw notFound('EXPORT', `no export ${exportId} for TSS ${tssId}`)
    return record
  }

  /** The exports of one TSS, or of every TSS of the caller's organization. */
  async listExports(caller: Caller, query: ListQuery, tssId?: string): Promise<Page<ExportRecord>> {
    if (tssId) await this.requireTss(caller, tssId)
    return this.store.listExports({ organizationId: caller.organizationId, tssId }, query)
  }

  /** DELETE: a PENDING or WORKING export is cancelled, a finished one withdrawn (its file is gone). */
  async cancelExport(caller: Caller, tssId: string, exportId: string): Promise<ExportRecord> {
    return this.changeExport(caller, tssId, exportId, (record) => {
      if (record.state === 'CANCELLED' || record.state === 'ERROR') return false
      record.state = 'CANCELLED'
      record.timeEnd = this.now()
      return true
    })
  }

  async updateExportMetadata(
    caller: Caller,
    tssId: string,
    exportId: string,
    metadata: MetadataPatch,
  ): Promise<ExportRecord> {
    return this.changeExport(caller, tssId, exportId, (record) => {
      record.metadata = patchMetadata(record.metadata, metadata)
      return true
    })
  }

  /** Changes an export under the TSS lock; `change` says whether there is anything to save. */
  private async changeExport(
    caller: Caller,
    tssId: string,
    exportId: string,
    change: (record: ExportRecord) => boolean,
  ): Promise<ExportRecord> {
    await this.getExport(caller, tssId, exportId)
    return this.store.run(async (work) => {
      await this.lockTss(work, caller, tssId)
      const record = (await work.findExport(tssId, exportId)) as ExportRecord
      if (change(record)) await work.saveExport(record)
      return record
    })
  }

  /** What a COMPLETED export's file holds: the TSS (for its certificate) and the log selection. */
  async exportContent(
    caller: Caller,
    tssId: string,
    exportId: string,
  ): Promise<{ tss: TssRecord; selection: LogSelection }> {
    const record = await this.getExport(caller, tssId, exportId)
    if (record.state !== 'COMPLETED')
      throw tssError(DeErrorCode.ExportNotCompleted, `export ${exportId} is ${record.state}, not COMPLETED`)
    const tss = await this.requireTss(caller, tssId)
    const selection = (await this.selectionOf(record)) as LogSelection
    return { tss, selection }
  }

  /** Everything a TSS has logged so far, for `fiscalbox export tar` (no caller: the operator's own command). */
  async fullSelection(tssId: string): Promise<{ tss: TssRecord; selection: LogSelection }> {
    const tss = await this.store.getTss(tssId)
    if (!tss) throw notFound('TSS', `no TSS ${tssId}`)
    return {
      tss,
      selection: {
        tssId,
        uptoSignatureCounter: await this.store.newestSignatureCounter(tssId),
        filters: { maximumNumberRecords: Number.MAX_SAFE_INTEGER },
      },
    }
  }

  streamLogs(selection: LogSelection) {
    return this.store.streamLogs(selection)
  }

  // ---- log messages -------------------------------------------------------------------------------

  private signerOf(tss: TssRecord): TssSigner {
    let signer = this.signers.get(tss.id)
    if (!signer) {
      signer = openTssSigner(tss.algorithm, tss.privateKeyEncrypted, this.keys)
      this.signers.set(tss.id, signer)
    }
    return signer
  }

  private appendSystemLog(work: TssWork, tss: TssRecord, data: SystemData) {
    return this.appendLog(work, tss, { kind: 'system', data })
  }

  /**
   * Signs the next log message of the TSS (counter + 1, time never earlier than the last one) and stores
   * it. The caller saves the TSS row in the same transaction.
   */
  private async appendLog(
    work: TssWork,
    tss: TssRecord,
    body: LogBody,
    context: { transactionNumber?: number; clientSerial?: string } = {},
  ) {
    const signatureCounter = tss.signatureCounter + 1
    const logTime = Math.max(this.now(), tss.lastLogTime)
    const signed = signedPart(body, {
      serialNumber: Buffer.from(tss.serialNumber, 'hex'),
      algorithmOid: TSS_ALGORITHMS[tss.algorithm].oid,
      signatureCounter,
      logTime,
    })
    const signature = this.signerOf(tss).sign(signed)
    const message = logMessage(signed, signature)
    await work.insertLog({
      tssId: tss.id,
      signatureCounter,
      kind: body.kind,
      operation:
        body.kind === 'transaction'
          ? body.data.operationType
          : body.kind === 'system'
            ? body.data.operationType
            : 'audit',
      logTime,
      transactionNumber: context.transactionNumber ?? null,
      clientSerial: context.clientSerial ?? null,
      message,
    })
    tss.signatureCounter = signatureCounter
    tss.lastLogTime = logTime
    return { signatureCounter, logTime, signature, message }
  }
}

function toAuthority(
  name: 'root' | 'sub',
  stored: { publicPart: string; sealed: string } | undefined,
): CertificateAuthority {
  if (!stored) throw new Error(`certificate authority ${name} missing`)
  return { name, certificate: Buffer.from(stored.publicPart, 'base64'), privateKeyEncrypted: stored.sealed }
}

async function waitForSecret(store: TssStore, name: string) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const found = await store.secret(name)
    if (found) return found
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`certificate authority ${name} was not stored by the node that created the root`)
}
