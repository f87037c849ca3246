import { createPublicKey } from 'node:crypto'
import { CHAINS, type Chain } from './documents.ts'
import { chainValue, payloadOf } from './jws.ts'
import type { ChainSpan, FrStore } from './ports.ts'

/** The first line of an archive file names its format (docs/country-fr.md "The archive file"). */
export const ARCHIVE_FORMAT = 'fiscalbox-fr-archive/1'

const PAGE = 1_000

export interface ArchiveHeader {
  format: typeof ARCHIVE_FORMAT
  cashboxId: string
  queueId: string
  period: string
  /** The queue's P-256 public key (SPKI, PEM) that signed every entry. */
  publicKey: string
}

/** The chain ranges an archive entry signed, as its payload carries them. */
export type ArchivedChains = Partial<
  Record<Chain, { first: number; last: number; previous: string; hash: string }>
>

/** What an archive entry signs of each chain's entries in its period: the ranges and their ends' links. */
export const archivedChains = (spans: readonly ChainSpan[]): ArchivedChains =>
  Object.fromEntries(
    spans.map((span) => [
      span.chain,
      {
        first: span.first.n,
        last: span.last.n,
        previous: String(payloadOf(span.first.jws).hash),
        hash: chainValue(span.last.jws),
      },
    ]),
  )

/**
 * The archive file of a signed archive entry (chain A), as JSON Lines: the header, every entry of every
 * chain in the ranges the archive entry names (chain by chain, in number order), and the archive entry.
 */
export class FrArchives {
  constructor(private readonly store: FrStore) {}

  async *lines(cashboxId: string, publicKeySpki: string, archiveJws: string): AsyncGenerator<string> {
    const archive = payloadOf(archiveJws)
    const queueId = String(archive.qid)
    const header: ArchiveHeader = {
      format: ARCHIVE_FORMAT,
      cashboxId,
      queueId,
      period: String(archive.period),
      publicKey: createPublicKey({ key: Buffer.from(publicKeySpki, 'base64'), format: 'der', type: 'spki' })
        .export({ type: 'spki', format: 'pem' })
        .toString(),
    }
    yield `${JSON.stringify(header)}\n`
    const chains = archive.chains as ArchivedChains
    for (const chain of CHAINS) {
      const range = chains[chain]
      if (!range) continue
      for (let next = range.first; next <= range.last; ) {
        const page = await this.store.entries(queueId, chain, next, range.last, PAGE)
        if (page.length === 0) throw new Error(`chain ${chain} of queue ${queueId} has no entry ${next}`)
        for (const jws of page) yield `${JSON.stringify({ jws })}\n`
        next += page.length
      }
    }
    yield `${JSON.stringify({ archive: archiveJws })}\n`
  }
}
