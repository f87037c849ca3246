import type { TransactionState, TransactionView } from '../tss/model.ts'
import type { TxSchema } from '../tss/process-data.ts'
import { type Exchange, refusalOf, type SignDeClient } from './client.ts'

/** One call the German market makes of a TSE for a receipt: a transaction revision, or disabling the TSS. */
export type TseOperation =
  | {
      tx: {
        txId: string
        revision: number
        state: TransactionState
        clientId: string
        schema?: TxSchema
      }
    }
  | { disable: true }
  /**
   * A transaction whose start may or may not have reached the TSE (its answer was lost and could not be
   * read back): looked up first, cancelled if the TSE has it ACTIVE, left alone if it has it closed or not.
   */
  | { settle: { txId: string; clientId: string } }

/** The unit request of a receipt on a remote TSE: its calls, in order. */
export interface RemotePlan {
  queueId: string
  tssId: string
  operations: TseOperation[]
}

/**
 * What the TSE answered each call, in order, and why the calls stopped early (the TSE failed). `uncertain`:
 * the call that failed was sent and its outcome is not known (the TSE may have done it, or may yet do it
 * when a delayed request arrives).
 */
export interface RemoteAnswer {
  /** `absent`: a settled transaction the TSE never had. */
  results: ({ tx: TransactionView } | { disabled: true } | { absent: true })[]
  failure?: string
  uncertain?: boolean
}

/** A transaction as SIGN DE v2 answers it, as far as a receipt reads it. */
interface ApiTransaction {
  tss_id: string
  tss_serial_number: string
  _id: string
  number: number
  revision: number
  state: TransactionState
  client_id: string
  client_serial_number: string
  time_start: number
  time_end?: number
  log: { operation: 'Start' | 'Update' | 'Finish'; timestamp: number }
  signature: { value: string; algorithm: string; counter: number; public_key: string }
  schema?: { raw?: { process_type: string; process_data: string } }
  qr_code_data?: string
}

export function viewOf(body: unknown): TransactionView {
  const tx = body as ApiTransaction
  return {
    tssId: tx.tss_id,
    tssSerialNumber: tx.tss_serial_number,
    id: tx._id,
    number: tx.number,
    revision: tx.revision,
    state: tx.state,
    clientId: tx.client_id,
    clientSerialNumber: tx.client_serial_number,
    timeStart: tx.time_start,
    timeEnd: tx.time_end ?? null,
    log: { operation: tx.log.operation, timestamp: tx.log.timestamp },
    signature: {
      value: tx.signature.value,
      algorithm: tx.signature.algorithm as TransactionView['signature']['algorithm'],
      counter: tx.signature.counter,
      publicKey: tx.signature.public_key,
    },
    schema: tx.schema ?? null,
    processType: tx.schema?.raw?.process_type ?? '',
    processData: tx.schema?.raw?.process_data ?? '',
    qrCodeData: tx.qr_code_data ?? null,
  }
}

/** SIGN DE's answer to a revision the transaction has not reached. */
const REVISION_NOT_FOUND = 'E_TX_REVISION_NOT_FOUND'

type Done = RemoteAnswer['results'][number]
/**
 * done: the TSE did it (its answer); absent: it did not; unknown: it cannot tell now; other: the revision
 * is there with another content (a request of an earlier receipt that arrived late).
 */
type ReadBack = { done: Done } | { absent: string } | { unknown: string } | { other: string }
type Outcome = { done: Done } | { failure: string; uncertain: boolean }
type TxCall = Extract<TseOperation, { tx: unknown }>['tx']

const CLOSED = new Set<TransactionState>(['FINISHED', 'CANCELLED'])

const ok = (exchange: Exchange): exchange is Extract<Exchange, { kind: 'answered' }> =>
  exchange.kind === 'answered' && exchange.status === 200

/**
 * Runs a receipt's calls of a remote TSE. An answer that does not come (timeout, dropped connection, a
 * gateway's 5xx) is reconciled by reading the transaction revision back under the same client-chosen id:
 * the TSE either has it (its answer is taken) or has not (the TSE failed for this receipt). A call is never
 * sent twice, so no receipt can start a second transaction. A revision the TSE holds with another content
 * (409, or found so on reading back: a request of an earlier receipt that arrived after its receipt gave up)
 * is reconciled from the transaction's latest revision, once.
 */
export class RemoteOperations {
  constructor(
    private readonly client: SignDeClient,
    private readonly tssId: string,
  ) {}

  async perform(operations: TseOperation[], signal?: AbortSignal, from: Done[] = []): Promise<RemoteAnswer> {
    const results = [...from]
    for (const operation of operations.slice(from.length)) {
      const outcome = await this.conclude(operation, signal)
      if ('failure' in outcome)
        return { results, failure: outcome.failure, ...(outcome.uncertain ? { uncertain: true } : {}) }
      results.push(outcome.done)
    }
    return { results }
  }

  /**
   * After a crash between reservation and commit: what the TSE did of the plan. Nothing (its first call is
   * not there): undefined. Else the rest of the plan is finished, each call read back before it is sent.
   */
  async recover(operations: TseOperation[], signal?: AbortSignal): Promise<RemoteAnswer | undefined> {
    const done: Done[] = []
    for (const operation of operations) {
      const read = await this.readBack(operation, signal)
      if ('unknown' in read) throw new Error(`the remote TSE cannot be read: ${read.unknown}`)
      if (!('done' in read)) break
      done.push(read.done)
    }
    if (done.length === 0) return undefined
    return this.perform(operations, signal, done)
  }

  /** One call to its outcome; `reconciled`: the call moved on from a taken revision already. */
  private async conclude(
    operation: TseOperation,
    signal?: AbortSignal,
    reconciled = false,
  ): Promise<Outcome> {
    if ('settle' in operation) return this.settle(operation.settle, signal)
    const sent = await this.send(operation, signal)
    const canReconcile = 'tx' in operation && !reconciled
    if (canReconcile && sent.kind === 'answered' && sent.status === 409)
      return this.reconcile(operation.tx, refusalOf(sent), signal)
    if (ok(sent)) return { done: this.doneOf(operation, sent.body) }
    if (sent.kind !== 'no_answer') return { failure: `TSE ${refusalOf(sent)}`, uncertain: false }
    const read = await this.readBack(operation, signal)
    if ('done' in read) return read
    if (canReconcile && 'other' in read) return this.reconcile(operation.tx, read.other, signal)
    return {
      failure:
        'unknown' in read
          ? `TSE did not answer (${sent.reason}); reading it back failed too (${read.unknown})`
          : `TSE did not answer (${sent.reason}) and did not do it`,
      // Not there when read back does not mean never: the request may still be on its way.
      uncertain: true,
    }
  }

  /**
   * The revision is taken by a request that arrived late: the call goes on from the transaction's latest
   * revision. A transaction closed meanwhile is what a cancellation wanted; a finish cannot be made on it.
   */
  private async reconcile(call: TxCall, why: string, signal?: AbortSignal): Promise<Outcome> {
    const latest = await this.latest(call.txId, signal)
    // The revision is taken: this call can no longer be done by the TSE, whatever happens next.
    if ('unknown' in latest)
      return {
        failure: `TSE refused revision ${call.revision} (${why}); reading it back failed (${latest.unknown})`,
        uncertain: false,
      }
    if (!('view' in latest))
      return {
        failure: `TSE refused revision ${call.revision} (${why}) and has no such transaction`,
        uncertain: false,
      }
    const { view } = latest
    if (CLOSED.has(view.state))
      return call.state === 'CANCELLED'
        ? { done: { tx: view } }
        : { failure: `TSE transaction ${call.txId} is ${view.state} already (${why})`, uncertain: false }
    if (view.revision < call.revision)
      return { failure: `TSE refused revision ${call.revision} (${why})`, uncertain: false }
    return this.conclude({ tx: { ...call, revision: view.revision + 1 } }, signal, true)
  }

  /** Looked up first: absent, or closed as it is, or cancelled from its latest revision. */
  private async settle(
    { txId, clientId }: { txId: string; clientId: string },
    signal?: AbortSignal,
  ): Promise<Outcome> {
    const latest = await this.latest(txId, signal)
    if ('unknown' in latest)
      return {
        failure: `TSE could not be asked for transaction ${txId} (${latest.unknown})`,
        uncertain: false,
      }
    if (!('view' in latest)) return { done: { absent: true } }
    if (CLOSED.has(latest.view.state)) return { done: { tx: latest.view } }
    return this.conclude(
      { tx: { txId, revision: latest.view.revision + 1, state: 'CANCELLED', clientId } },
      signal,
    )
  }

  private async latest(
    txId: string,
    signal?: AbortSignal,
  ): Promise<{ view: TransactionView } | { absent: true } | { unknown: string }> {
    const read = await this.client.call('GET', `/tss/${this.tssId}/tx/${txId}`, undefined, signal)
    if (read.kind !== 'answered') return { unknown: read.reason }
    if (read.status === 404) return { absent: true }
    if (!ok(read)) return { unknown: refusalOf(read) }
    return { view: viewOf(read.body) }
  }

  private send(
    operation: Exclude<TseOperation, { settle: unknown }>,
    signal?: AbortSignal,
  ): Promise<Exchange> {
    if ('disable' in operation)
      return this.client.call('PATCH', `/tss/${this.tssId}`, { state: 'DISABLED' }, signal)
    const { txId, revision, state, clientId, schema } = operation.tx
    return this.client.call(
      'PUT',
      `/tss/${this.tssId}/tx/${txId}?tx_revision=${revision}`,
      { state, client_id: clientId, ...(schema ? { schema } : {}) },
      signal,
    )
  }

  private doneOf(operation: Exclude<TseOperation, { settle: unknown }>, body: unknown): Done {
    return 'disable' in operation ? { disabled: true } : { tx: viewOf(body) }
  }

  private async readBack(operation: TseOperation, signal?: AbortSignal): Promise<ReadBack> {
    if ('settle' in operation) {
      // Done when nothing is left to cancel: the TSE never had it, or has it closed.
      const latest = await this.latest(operation.settle.txId, signal)
      if ('unknown' in latest) return latest
      if (!('view' in latest)) return { done: { absent: true } }
      return CLOSED.has(latest.view.state)
        ? { done: { tx: latest.view } }
        : { absent: `transaction ${operation.settle.txId} is ${latest.view.state}` }
    }
    const path =
      'disable' in operation
        ? `/tss/${this.tssId}`
        : `/tss/${this.tssId}/tx/${operation.tx.txId}?tx_revision=${operation.tx.revision}`
    const read = await this.client.call('GET', path, undefined, signal)
    if (read.kind !== 'answered') return { unknown: read.reason }
    if (read.status === 404 || (read.body as { code?: string } | undefined)?.code === REVISION_NOT_FOUND)
      return { absent: refusalOf(read) }
    if (!ok(read)) return { unknown: refusalOf(read) }
    if ('disable' in operation) {
      const state = (read.body as { state?: string }).state
      return state === 'DISABLED' ? { done: { disabled: true } } : { absent: `the TSS is ${state}` }
    }
    const view = viewOf(read.body)
    const { revision, state, schema } = operation.tx
    if (view.revision !== revision) return { absent: `revision ${view.revision} is ${view.state}` }
    const raw = schema && 'raw' in schema ? schema.raw : undefined
    return view.state === state && (!raw || raw.process_data === view.processData)
      ? { done: { tx: view } }
      : { other: `revision ${revision} is ${view.state} with another content` }
  }
}
