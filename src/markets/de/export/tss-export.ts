import { Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  type CertificateFormat,
  certificateFileName,
  type ExportInfo,
  infoCsv,
  type LogNameParts,
  UniqueLogNames,
} from './export-names.ts'
import { type TarEntry, tarChunks } from './tar-writer.ts'

/** A certificate of the chain (TSS leaf, sub-CA, root), named by the SHA-256 of its public point. */
export interface ExportCertificate {
  der: Uint8Array
  /** Files to write for it; default ['der']. 'pem' writes the PEM text. */
  formats?: CertificateFormat[]
}

/** A signed TR-03151 log message (complete DER) and the facts its file name is made of. */
export type ExportLogMessage = LogNameParts & { der: Uint8Array }

export interface TssExportContent {
  info: ExportInfo
  certificates: AsyncIterable<ExportCertificate> | Iterable<ExportCertificate>
  /** In signature counter order (how the TSS stores them); pulled one at a time. */
  logMessages: AsyncIterable<ExportLogMessage> | Iterable<ExportLogMessage>
  /** Modification time of the archive entries, seconds since the epoch; default: now. */
  mtime?: number
}

export interface TssExportProgress {
  logMessages: number
}

export interface TssExportResult {
  logMessages: number
  certificates: number
  bytes: number
}

const PROGRESS_EVERY = 1000

function pem(der: Uint8Array): Uint8Array {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? []
  return Buffer.from(`-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`)
}

async function* exportEntries(
  content: TssExportContent,
  counts: TssExportResult,
  onProgress?: (progress: TssExportProgress) => void,
): AsyncGenerator<TarEntry> {
  yield { name: 'info.csv', data: Buffer.from(infoCsv(content.info), 'utf8') }
  for await (const certificate of content.certificates) {
    for (const format of certificate.formats ?? ['der']) {
      const data = format === 'pem' ? pem(certificate.der) : certificate.der
      yield { name: certificateFileName(certificate.der, format), data }
    }
    counts.certificates++
  }
  const names = new UniqueLogNames()
  for await (const message of content.logMessages) {
    yield { name: names.next(message), data: message.der }
    if (++counts.logMessages % PROGRESS_EVERY === 0) onProgress?.({ logMessages: counts.logMessages })
  }
  onProgress?.({ logMessages: counts.logMessages })
}

/**
 * The TAR export of one TSS as a byte stream: info.csv, the certificates, then every log message, as
 * POSIX ustar (PAX headers for names over 99 characters). Lazy: nothing is read from `content` until the
 * stream is consumed, and only as fast as it is consumed. `result` is complete once the stream has ended.
 */
export function tssExportStream(
  content: TssExportContent,
  onProgress?: (progress: TssExportProgress) => void,
): { stream: Readable; result: TssExportResult } {
  const result: TssExportResult = { logMessages: 0, certificates: 0, bytes: 0 }
  const mtime = content.mtime ?? Math.floor(Date.now() / 1000)
  async function* counted() {
    for await (const chunk of tarChunks(exportEntries(content, result, onProgress), { mtime })) {
      result.bytes += chunk.length
      yield chunk
    }
  }
  return { stream: Readable.from(counted(), { objectMode: false }), result }
}

/**
 * Writes the TAR export of one TSS into `output` (a file, an HTTP response, ...) with backpressure and
 * ends it. Rejects, and destroys both sides, if the source or the output fails.
 */
export async function writeTssExport(
  content: TssExportContent,
  output: Writable,
  onProgress?: (progress: TssExportProgress) => void,
): Promise<TssExportResult> {
  const { stream, result } = tssExportStream(content, onProgress)
  await pipeline(stream, output)
  return result
}
