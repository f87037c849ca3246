import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'

/**
 * The independent check of a French archive file (docs/country-fr.md "The archive file"): written from the
 * documented format with node:crypto, sharing no code with the market that signs. It checks every JWS, the
 * links and numbering of every chain, and that the signed archive entry names exactly the ranges present.
 */
export interface ArchiveReport {
  period: string
  entries: number
  chains: Record<string, number>
  problems: string[]
}

const ES256_HEADER = { alg: 'ES256' }
const MAX_PROBLEMS = 50

interface Seen {
  first: number
  last: number
  previous: string
  hash: string
}

function decode(jws: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header = '', payload = ''] = jws.split('.')
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
  }
}

function signatureHolds(key: KeyObject, jws: string): boolean {
  const parts = jws.split('.')
  if (parts.length !== 3) return false
  const signature = Buffer.from(parts[2] ?? '', 'base64url')
  if (signature.length !== 64) return false
  return verify(
    'sha256',
    Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'),
    { key, dsaEncoding: 'ieee-p1363' },
    signature,
  )
}

const linkOf = (jws: string) =>
  createHash('sha256')
    .update(jws.slice(0, jws.lastIndexOf('.')), 'ascii')
    .digest('base64')

export async function verifyArchive(file: string): Promise<ArchiveReport> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })
  const report: ArchiveReport = { period: '', entries: 0, chains: {}, problems: [] }
  const problem = (text: string) => {
    if (report.problems.length < MAX_PROBLEMS) report.problems.push(text)
  }
  let key: KeyObject | undefined
  let queueId = ''
  let archive: Record<string, unknown> | undefined
  const seen = new Map<string, Seen>()
  let lineNumber = 0
  for await (const line of lines) {
    lineNumber += 1
    if (line === '') continue
    if (archive) {
      problem(`line ${lineNumber}: nothing may follow the archive entry`)
      break
    }
    let record: Record<string, unknown>
    try {
      record = JSON.parse(line)
    } catch {
      problem(`line ${lineNumber}: not JSON`)
      continue
    }
    if (lineNumber === 1) {
      queueId = String(record.queueId)
      report.period = String(record.period)
      try {
        key = createPublicKey(String(record.publicKey))
      } catch {
        problem('line 1: the header has no P-256 public key (SPKI, PEM)')
        return report
      }
      continue
    }
    const jws = String(record.jws ?? record.archive ?? '')
    if (!key || !signatureHolds(key, jws)) {
      problem(`line ${lineNumber}: the signature does not verify with the archive's public key`)
      continue
    }
    const { header, payload } = decode(jws)
    if (header.alg !== ES256_HEADER.alg) problem(`line ${lineNumber}: alg is not ES256`)
    if (payload.qid !== queueId)
      problem(`line ${lineNumber}: entry of another queue (${String(payload.qid)})`)
    if (record.archive !== undefined) {
      archive = payload
      if (payload.chain !== 'A' || payload.period !== report.period)
        problem(`line ${lineNumber}: the last line is not the archive entry of period ${report.period}`)
      continue
    }
    const chain = String(payload.chain)
    const n = Number(payload.n)
    const previous = seen.get(chain)
    if (!previous) {
      seen.set(chain, { first: n, last: n, previous: String(payload.hash), hash: linkOf(jws) })
    } else {
      if (n !== previous.last + 1)
        problem(`line ${lineNumber}: ${chain}${n} follows ${chain}${previous.last}`)
      if (payload.hash !== previous.hash)
        problem(`line ${lineNumber}: ${chain}${n} does not link to ${chain}${previous.last}`)
      previous.last = n
      previous.hash = linkOf(jws)
    }
    report.entries += 1
  }
  if (!archive) {
    problem('the file ends without its signed archive entry: it is incomplete')
    return report
  }
  const signed = (archive.chains ?? {}) as Record<string, Seen>
  for (const chain of new Set([...Object.keys(signed), ...seen.keys()])) {
    const expected = signed[chain]
    const found = seen.get(chain)
    if (!expected || !found) {
      problem(`chain ${chain}: ${expected ? 'missing from the file' : 'not named by the archive entry'}`)
      continue
    }
    for (const field of ['first', 'last', 'previous', 'hash'] as const) {
      if (expected[field] !== found[field])
        problem(
          `chain ${chain}: the archive entry signed ${field} ${expected[field]}, the file has ${found[field]}`,
        )
    }
    report.chains[chain] = found.last - found.first + 1
  }
  return report
}
