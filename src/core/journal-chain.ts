import { createHash } from 'node:crypto'

/**
 * The receipt journal's hash chain, specified in docs/journal-format.md. Kept free of any storage or HTTP
 * detail so that `fiscalbox verify` and the writer share only this definition, and an auditor can
 * rewrite it in a few lines.
 */
export const GENESIS_HASH = '0'.repeat(64)

export interface ChainLink {
  queueId: string
  number: number
  queueRow: number
  moment: string
  receiptCase: string
  total: string
  requestHash: string
  responseHash: string
}

export function chainText(link: ChainLink): string {
  return [
    'fiscalbox-journal-v1',
    link.queueId,
    link.number,
    link.queueRow,
    link.moment,
    link.receiptCase,
    link.total,
    link.requestHash,
    link.responseHash,
  ].join('|')
}

export function chainHash(previousHash: string, link: ChainLink): string {
  return createHash('sha256')
    .update(Buffer.from(previousHash, 'hex'))
    .update(chainText(link), 'utf8')
    .digest('hex')
}
