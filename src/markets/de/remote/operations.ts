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

/** The unit request of a receipt on a remote TSE: its calls, in order. */
export interface RemotePlan {
  queueId: string
  tssId: string
  operations: TseOperation[]
}

/** What the TSE answered each call, in order, and why the calls stopped early (the TSE failed). */
export interface RemoteAnswer {
  results: ({ tx: TransactionView } | { disabled: true })[]
  failure?: string
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
/** done: the TSE did it (its answer); absent: it did not; unknown: it cannot tell now. */
type ReadBack = { done: Done } | { absent: string } | { unknown: string }

const ok = (exchange: Exchange): exchange is Extract<Exchange, { kind: 'answered' }> =>
  exchange.kind === 'answered' && exchange.status === 200

/**
 * Runs a receipt's calls of a remote TSE. An answer that does not come (timeout, dropped connection, a
 * gateway's 5xx) is reconciled by reading the transaction revision back under the same client-chosen id:
 * the TSE either has it (its answer is taken) or has not (the TSE failed for this receipt). A call is never
 * sent twice, so no receipt can start a second transaction.
 */
export class RemoteOperations {
  constructor(
    private readonly client: SignDeClient,
    private readonly tssId: string,
  ) {}

  async perform(operations: TseOperation[], signal?: AbortSignal, from: Done[] = []): Promise<RemoteAnswer> {
    const results = [...from]
    for (const operation of operations.slice(from.length)) {
      const sent = await this.send(operation, signal)
      if (ok(sent)) {
        results.push(this.doneOf(operation, sent.body))
        continue
      }
      if (sent.kind !== 'no_answer') return { results, failure: `TSE ${refusalOf(sent)}` }
      const read = await this.readBack(operation, signal)
      if ('done' in read) {
        results.push(read.done)
        continue
      }
      return {
        results,
        failure:
          'absent' in read
            ? `TSE did not answer (${sent.reason}) and did not do it`
            : `TSE did not answer (${sent.reason}); reading it back failed too (${read.unknown})`,
      }
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
      if ('absent' in read) break
      done.push(read.done)
    }
    if (done.length === 0) return undefined
    return this.perform(operations, signal, done)
  }

  private send(operation: TseOperation, signal?: AbortSignal): Promise<Exchange> {
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

  private doneOf(operation: TseOperation, body: unknown): Done {
    return 'disable' in operation ? { disabled: true } : { tx: viewOf(body) }
  }

  private async readBack(operation: TseOperation, signal?: AbortSignal): Promise<ReadBack> {
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
    return view.revision === operation.tx.revision && view.state === operation.tx.state
      ? { done: { tx: view } }
      : { absent: `revision ${view.revision} is ${view.state}` }
  }
}
