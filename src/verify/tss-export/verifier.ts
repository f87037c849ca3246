import { createHash, type KeyObject, verify as verifySignature, X509Certificate } from 'node:crypto'
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithm } from './algorithms.ts'
import { CURVES } from './curves.ts'
import { type CertificateExtensions, certificateExtensions } from './certificate-extensions.ts'
import { DerError } from './der.ts'
import { EcSchnorrVerifier } from './ec-schnorr.ts'
import { type ExportFilter, exportFilterOf, inRange } from './export-filter.ts'
import { LogMessageError, type ParsedLogMessage, parseLogMessage } from './log-message.ts'
import { systemOperationDataProblems } from './system-operation-data.ts'

/**
 * Checks a BSI TR-03151/TR-03153 TSS export, written from the specifications and independent of the code
 * that produces exports. Two passes over the archive, because an export may put its certificates after
 * the logs (the BSI simulator does): pass 1 hands every certificate file to certificate(), pass 2 every
 * member to member(); finish() then checks what only the whole archive shows (signature counter without
 * gaps or repeats, transaction life cycles, time order, certificate chains).
 *
 * Memory is bounded by a few typed-array slots per log message (about 40 bytes), not by file sizes, so a
 * million-message export is checked in well under 256 MB.
 */

export interface TssExportReport {
  kind: 'tss-export'
  logMessages: number
  transactionLogs: number
  systemLogs: number
  auditLogs: number
  signaturesVerified: number
  transactions: number
  openTransactions: number
  signatureCounter: { first: number; last: number } | null
  tss: { serialNumber: string; certificate: string; chain: string[]; algorithms: string[] }[]
  certificates: number
  otherFiles: string[]
  problems: string[]
  /** All problems found; `problems` lists at most the first MAX_LISTED. */
  problemCount: number
  /** A filtered export's filter as info.csv declares it (`client=POS-1; transactions=2..5`), else null. */
  filter: string | null
  /** Departures from RFC 5280 that certified TSEs and the BSI simulator ship, which do not fail the check. */
  warnings: string[]
}

const MAX_LISTED = 1000
const CERTIFICATE_FILE = /\.(der|cer|crt|pem)$/i
const KEY_HASH_NAME = /^([0-9A-Fa-f]{64})_X509\.(der|cer|crt|pem)$/
const INFO_CSV =
  /^"description:","(?:[^"]|"")*","manufacturer:","(?:[^"]|"")*","version:","(?:[^"]|"")*"\r?\n?$/

/** Kinds of log message, as stored per record. */
const enum Code {
  Start = 0,
  Update = 1,
  Finish = 2,
  System = 3,
  Audit = 4,
}
const OPERATION_CODE: Record<string, Code> = {
  StartTransaction: Code.Start,
  UpdateTransaction: Code.Update,
  FinishTransaction: Code.Finish,
}
const OPERATION_WORD = ['Start', 'Update', 'Finish']
const TIME_PREFIX = { unixTime: 'Unixt', utcTime: 'Utc', generalizedTime: 'Gent' } as const

interface Certificate {
  file: string
  cert: X509Certificate
  key: KeyObject
  point: Buffer
  keyHash: string
  validFrom: number
  validTo: number
  extensions: CertificateExtensions
}

interface Tss {
  serialNumber: string
  certificate: Certificate
  schnorr?: EcSchnorrVerifier
  algorithms: Set<string>
  records: Records
}

/** The facts of every log message of one TSS in parallel growable typed arrays. */
class Records {
  length = 0
  counter = new Float64Array(1024)
  time = new Float64Array(1024)
  transaction = new Float64Array(1024)
  code = new Uint8Array(1024)
  /** Interned client id (transactions) or operationType (system logs). */
  text = new Int32Array(1024)
  /** Interned UTCTime/GeneralizedTime string, or -1 for unixTime. */
  timeText = new Int32Array(1024)

  push(counter: number, time: number, transaction: number, code: Code, text: number, timeText: number): void {
    if (this.length === this.counter.length) this.#grow()
    const i = this.length++
    this.counter[i] = counter
    this.time[i] = time
    this.transaction[i] = transaction
    this.code[i] = code
    this.text[i] = text
    this.timeText[i] = timeText
  }

  #grow(): void {
    const size = this.counter.length * 2
    const grow = <T extends Float64Array | Uint8Array | Int32Array>(old: T, make: (n: number) => T): T => {
      const next = make(size)
      next.set(old)
      return next
    }
    this.counter = grow(this.counter, (n) => new Float64Array(n))
    this.time = grow(this.time, (n) => new Float64Array(n))
    this.transaction = grow(this.transaction, (n) => new Float64Array(n))
    this.code = grow(this.code, (n) => new Uint8Array(n))
    this.text = grow(this.text, (n) => new Int32Array(n))
    this.timeText = grow(this.timeText, (n) => new Int32Array(n))
  }
}

function publicPoint(key: KeyObject): Buffer {
  // SubjectPublicKeyInfo ends with the BIT STRING of the point: for an uncompressed point of a curve
  // with field length L that is the last 1 + 2L bytes (04||X||Y). L follows from the key's curve.
  const spki = key.export({ type: 'spki', format: 'der' })
  const curve = key.asymmetricKeyDetails?.namedCurve
  const parameters = curve ? CURVES[curve] : undefined
  if (!parameters) throw new Error(`unsupported key curve ${curve ?? key.asymmetricKeyType}`)
  const length = 1 + 2 * Math.ceil(parameters.p.toString(2).length / 8)
  const point = spki.subarray(spki.length - length)
  if (point[0] !== 0x04) throw new Error('public key is not an uncompressed EC point')
  return point
}

function seconds(date: string): number {
  return Date.parse(date) / 1000
}

export class TssExportVerifier {
  readonly #certificates: Certificate[] = []
  /** Key hash (upper-case hex) -> certificate to check log messages with. */
  readonly #byKeyHash = new Map<string, Certificate>()
  readonly #tss = new Map<string, Tss>()
  readonly #strings: string[] = []
  readonly #stringIndex = new Map<string, number>()
  readonly #problems: string[] = []
  readonly #warnings = new Set<string>()
  #problemCount = 0
  readonly #otherFiles: string[] = []
  #infoCsv = false
  #filter: ExportFilter | null = null
  #counts = { transaction: 0, system: 0, audit: 0, verified: 0 }

  #problem(text: string): void {
    this.#problemCount++
    if (this.#problems.length < MAX_LISTED) this.#problems.push(text)
  }

  #intern(text: string): number {
    let index = this.#stringIndex.get(text)
    if (index === undefined) {
      index = this.#strings.length
      this.#strings.push(text)
      this.#stringIndex.set(text, index)
    }
    return index
  }

  static isCertificateFile(name: string): boolean {
    return CERTIFICATE_FILE.test(name)
  }

  /** Pass 1: a certificate file (.der, .cer, .crt or .pem). */
  certificate(name: string, data: Buffer): void {
    let cert: X509Certificate
    try {
      cert = new X509Certificate(data)
    } catch {
      this.#problem(`${name}: not an X.509 certificate`)
      return
    }
    let point: Buffer
    try {
      point = publicPoint(cert.publicKey)
    } catch (error) {
      this.#problem(`${name}: ${(error as Error).message}`)
      return
    }
    let extensions: CertificateExtensions
    try {
      extensions = certificateExtensions(cert.raw)
    } catch (error) {
      if (!(error instanceof DerError)) throw error
      this.#problem(`${name}: its extensions are not valid DER: ${error.message}`)
      return
    }
    const keyHash = createHash('sha256').update(point).digest('hex').toUpperCase()
    const named = KEY_HASH_NAME.exec(name)
    if (named && (named[1] as string).toUpperCase() !== keyHash)
      this.#problem(`${name}: the name is not the SHA-256 of the certificate's public key (${keyHash})`)
    const entry: Certificate = {
      file: name,
      cert,
      key: cert.publicKey,
      point,
      keyHash,
      validFrom: seconds(cert.validFrom),
      validTo: seconds(cert.validTo),
      extensions,
    }
    this.#certificates.push(entry)
    // For a key with several certificates, prefer one a CA issued over a self-signed one.
    const current = this.#byKeyHash.get(keyHash)
    if (!current || (this.#selfSigned(current.cert) && !this.#selfSigned(cert)))
      this.#byKeyHash.set(keyHash, entry)
  }

  #selfSigned(cert: X509Certificate): boolean {
    return cert.subject === cert.issuer && cert.verify(cert.publicKey)
  }

  /** Pass 2: every member of the archive, in archive order. */
  member(name: string, data: Buffer): void {
    if (name === 'info.csv') {
      this.#infoCsv = true
      const text = data.toString('utf8')
      if (!INFO_CSV.test(text))
        this.#problem(`info.csv: not the line "description:","...","manufacturer:","...","version:","..."`)
      const filter = exportFilterOf(text)
      if (typeof filter === 'string') this.#problem(filter)
      else this.#filter = filter
      return
    }
    if (name.endsWith('.log')) return this.#log(name, data)
    if (TssExportVerifier.isCertificateFile(name)) return
    if (this.#otherFiles.length < 20) this.#otherFiles.push(name)
  }

  #log(name: string, data: Buffer): void {
    let message: ParsedLogMessage
    try {
      message = parseLogMessage(data)
    } catch (error) {
      if (!(error instanceof LogMessageError)) throw error
      this.#problem(`${name}: not a TR-03151 log message: ${error.message}`)
      return
    }
    const code =
      message.kind === 'transaction'
        ? (OPERATION_CODE[message.operationType as string] as Code)
        : message.kind === 'system'
          ? Code.System
          : Code.Audit
    if (message.kind === 'transaction') this.#counts.transaction++
    else if (message.kind === 'system') this.#counts.system++
    else this.#counts.audit++

    const text =
      message.kind === 'transaction'
        ? this.#intern(message.clientId as string)
        : message.kind === 'system'
          ? this.#intern(message.operationType as string)
          : -1
    const timeText = message.logTime.format === 'unixTime' ? -1 : this.#intern(message.logTime.value)
    const counter = Number(message.signatureCounter)
    const transaction = Number(message.transactionNumber ?? 0n)
    if (!Number.isSafeInteger(counter) || !Number.isSafeInteger(transaction)) {
      this.#problem(`${name}: signature counter or transaction number beyond 2^53`)
      return
    }
    const stem = this.#stem(counter, message.logTime.seconds, transaction, code, text, timeText)
    if (name !== `${stem}.log` && !new RegExp(`^${escapeRegExp(stem)}_Fc-[1-9][0-9]*\\.log$`).test(name))
      this.#problem(`${name}: the file name does not match the log message, which says ${stem}.log`)

    if (message.kind === 'system')
      for (const problem of systemOperationDataProblems(
        message.operationType as string,
        message.systemOperationData,
      ))
        this.#problem(`${name}: ${problem}`)

    const serialNumber = Buffer.from(message.serialNumber).toString('hex').toUpperCase()
    const tss = this.#tssOf(serialNumber, name)
    if (!tss) return
    tss.records.push(counter, message.logTime.seconds, transaction, code, text, timeText)

    const algorithm = SIGNATURE_ALGORITHMS.get(message.algorithmOid)
    if (!algorithm) {
      this.#problem(`${name}: unknown signature algorithm ${message.algorithmOid}`)
      return
    }
    const curve = tss.certificate.key.asymmetricKeyDetails?.namedCurve ?? '?'
    tss.algorithms.add(`${algorithm.name} on ${curve}`)
    if (this.#signatureValid(tss, algorithm, message)) this.#counts.verified++
    else this.#problem(`${name}: the signature does not verify with the certificate ${tss.certificate.file}`)
    const { validFrom, validTo } = tss.certificate
    if (message.logTime.seconds < validFrom || message.logTime.seconds > validTo)
      this.#problem(`${name}: logTime is outside the validity of certificate ${tss.certificate.file}`)
  }

  #tssOf(serialNumber: string, file: string): Tss | undefined {
    let tss = this.#tss.get(serialNumber)
    if (tss) return tss
    const certificate = this.#byKeyHash.get(serialNumber)
    if (!certificate) {
      this.#problem(`${file}: no certificate in the archive for the TSS serial number ${serialNumber}`)
      return undefined
    }
    tss = { serialNumber, certificate, algorithms: new Set(), records: new Records() }
    this.#tss.set(serialNumber, tss)
    return tss
  }

  #signatureValid(tss: Tss, algorithm: SignatureAlgorithm, message: ParsedLogMessage): boolean {
    const key = tss.certificate.key
    if (algorithm.scheme === 'ecdsa') {
      // plain r||s is exactly twice the length of the curve order
      const curve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? '']
      if (curve && message.signature.length !== 2 * Math.ceil(curve.n.toString(2).length / 8)) return false
      try {
        return verifySignature(
          algorithm.hash,
          message.signedBytes,
          { key, dsaEncoding: 'ieee-p1363' },
          message.signature,
        )
      } catch {
        return false
      }
    }
    if (!tss.schnorr) {
      const curve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? '']
      if (!curve) return false
      tss.schnorr = new EcSchnorrVerifier(curve, tss.certificate.point)
    }
    return tss.schnorr.verify(algorithm.hash, message.signedBytes, message.signature)
  }

  /** The file name of a log message without its `.log` ending, built from its facts (TR-03153). */
  #stem(
    counter: number,
    time: number,
    transaction: number,
    code: Code,
    text: number,
    timeText: number,
  ): string {
    const timePart =
      timeText < 0
        ? `${TIME_PREFIX.unixTime}_${time}`
        : `${this.#timePrefix(timeText)}_${this.#strings[timeText]}`
    const head = `${timePart}_Sig-${counter}`
    if (code <= Code.Finish)
      return `${head}_Log-Tra_No-${transaction}_${OPERATION_WORD[code]}_Client-${this.#strings[text]}`
    if (code === Code.System) return `${head}_Log-Sys_${this.#strings[text]}`
    return `${head}_Log-Aud`
  }

  #timePrefix(timeText: number): string {
    // UTCTime has a two-digit year (13 characters with the Z), GeneralizedTime a four-digit one.
    return /^\d{12}Z$/.test(this.#strings[timeText] as string)
      ? TIME_PREFIX.utcTime
      : TIME_PREFIX.generalizedTime
  }

  #recordName(r: Records, i: number): string {
    return `${this.#stem(
      r.counter[i] as number,
      r.time[i] as number,
      r.transaction[i] as number,
      r.code[i] as Code,
      r.text[i] as number,
      r.timeText[i] as number,
    )}.log`
  }

  /** Whole-archive checks; call after pass 2. */
  finish(): TssExportReport {
    if (!this.#infoCsv) this.#problem('info.csv: missing')
    const total = this.#counts.transaction + this.#counts.system + this.#counts.audit
    if (total === 0) this.#problem('the archive contains no log messages')
    let transactions = 0
    let openTransactions = 0
    let first = Number.POSITIVE_INFINITY
    let last = Number.NEGATIVE_INFINITY
    const tssReports: TssExportReport['tss'] = []
    for (const tss of this.#tss.values()) {
      const outcome = this.#sequence(tss)
      transactions += outcome.transactions
      openTransactions += outcome.open
      first = Math.min(first, outcome.first)
      last = Math.max(last, outcome.last)
      const chain = this.#chain(tss.certificate)
      this.#chainRules(chain)
      this.#chainValidity(chain, outcome.times)
      tssReports.push({
        serialNumber: tss.serialNumber,
        certificate: tss.certificate.file,
        chain: chain.map((c) => c.file),
        algorithms: [...tss.algorithms],
      })
    }
    return {
      kind: 'tss-export',
      logMessages: total,
      transactionLogs: this.#counts.transaction,
      systemLogs: this.#counts.system,
      auditLogs: this.#counts.audit,
      signaturesVerified: this.#counts.verified,
      transactions,
      openTransactions,
      signatureCounter: Number.isFinite(first) ? { first, last } : null,
      tss: tssReports,
      certificates: this.#certificates.length,
      otherFiles: this.#otherFiles,
      problems: this.#problems,
      problemCount: this.#problemCount,
      filter: this.#filter?.text ?? null,
      warnings: [...this.#warnings],
    }
  }

  /** Leaf to root through the certificates of the archive, checking every signature on the way. */
  #chain(leaf: Certificate): Certificate[] {
    const chain = [leaf]
    let current = leaf
    for (let depth = 0; depth < 8; depth++) {
      if (this.#selfSigned(current.cert)) return chain
      const issuer = this.#certificates.find(
        (c) => c !== current && current.cert.issuer === c.cert.subject && current.cert.verify(c.key),
      )
      if (!issuer) {
        this.#problem(
          `${current.file}: its issuer "${current.cert.issuer.replaceAll('\n', ', ')}" is not in the archive or did not sign it`,
        )
        return chain
      }
      chain.push(issuer)
      current = issuer
    }
    this.#problem(`${leaf.file}: certificate chain longer than 8`)
    return chain
  }

  /**
   * What `openssl verify` checks on a chain (RFC 5280 6.1.4): every issuer is a CA allowed to sign
   * certificates, and no CA has more CAs below it than its pathLenConstraint allows. Key identifiers
   * (4.2.1.1, 4.2.1.2) must match where both are there; a missing one is a warning only, because the BSI
   * simulator's chain has no Authority Key Identifiers (and fails `openssl verify -x509_strict`).
   */
  #chainRules(chain: Certificate[]): void {
    for (let i = 1; i < chain.length; i++) {
      const issuer = chain[i] as Certificate
      const child = chain[i - 1] as Certificate
      const { basicConstraints, keyUsage, subjectKeyId } = issuer.extensions
      if (!basicConstraints?.ca)
        this.#problem(`${issuer.file}: issued ${child.file} but is no CA (basicConstraints cA is not TRUE)`)
      if (keyUsage && !keyUsage.keyCertSign)
        this.#problem(`${issuer.file}: issued ${child.file} but its keyUsage lacks keyCertSign`)
      const below = i - 1
      const limit = basicConstraints?.pathLength
      if (limit !== undefined && below > limit)
        this.#problem(
          `${issuer.file}: path length constraint exceeded: pathLenConstraint ${limit} allows ${limit} CA certificate(s) below it, the chain has ${below}`,
        )
      const authorityKeyId = child.extensions.authorityKeyId
      if (authorityKeyId && subjectKeyId && authorityKeyId !== subjectKeyId)
        this.#problem(
          `${child.file}: its Authority Key Identifier ${authorityKeyId} is not the Subject Key Identifier ${subjectKeyId} of its issuer ${issuer.file}`,
        )
      if (!authorityKeyId)
        this.#warnings.add(
          `${child.file}: no Authority Key Identifier (RFC 5280 4.2.1.1; openssl -x509_strict rejects it)`,
        )
      if (!subjectKeyId)
        this.#warnings.add(`${issuer.file}: CA certificate without Subject Key Identifier (RFC 5280 4.2.1.2)`)
    }
  }

  /** Every certificate of the chain must be valid whenever the TSS signed (the leaf is checked per log). */
  #chainValidity(chain: Certificate[], times: { first: number; last: number } | null): void {
    if (!times) return
    for (const certificate of chain.slice(1))
      if (times.first < certificate.validFrom || times.last > certificate.validTo)
        this.#problem(
          `${certificate.file}: not valid at all log times (${iso(times.first)} to ${iso(times.last)}); it is valid from ${iso(certificate.validFrom)} to ${iso(certificate.validTo)}`,
        )
  }

  /** How record i lies outside the export's declared filter, or undefined. */
  #outside(filter: ExportFilter, r: Records, i: number): string | undefined {
    const counter = r.counter[i] as number
    const time = r.time[i] as number
    if (filter.signatures && !inRange(filter.signatures, counter)) return `has signature counter ${counter}`
    if (filter.time && !inRange(filter.time, time)) return `was logged at ${time}`
    if ((r.code[i] as Code) > Code.Finish) return undefined
    const client = this.#strings[r.text[i] as number]
    if (filter.client !== undefined && client !== filter.client) return `is from client ${client}`
    const number = r.transaction[i] as number
    if (filter.transactions && !inRange(filter.transactions, number)) return `is of transaction ${number}`
    return undefined
  }

  /** Signature counter, time order and transaction life cycles of one TSS, in counter order. */
  #sequence(tss: Tss): {
    transactions: number
    open: number
    first: number
    last: number
    times: { first: number; last: number } | null
  } {
    const r = tss.records
    const order = new Uint32Array(r.length)
    for (let i = 0; i < r.length; i++) order[i] = i
    order.sort((a, b) => (r.counter[a] as number) - (r.counter[b] as number))
    const name = (k: number) => this.#recordName(r, order[k] as number)

    // Transactions are numbered in start order, so only the open ones need remembering: a number between
    // the first and the last started one that is not open has been finished (or was reported missing).
    const open = new Map<number, number>() // number -> interned client id
    let transactions = 0
    let firstStarted = 0
    let lastStarted = 0
    const firstCounter = r.length ? (r.counter[order[0] as number] as number) : 0
    const seenBefore = (n: number) => firstStarted > 0 && n >= firstStarted && n <= lastStarted
    // A filtered export leaves out the other clients' logs, or all but some transactions' logs: then the
    // counter (and, for one client, the transaction numbers) may jump. Everything else still holds.
    const filter = this.#filter
    const counterGaps = filter?.client !== undefined || filter?.transactions !== undefined
    const numberGaps = filter?.client !== undefined
    for (let k = 0; k < r.length; k++) {
      const i = order[k] as number
      const counter = r.counter[i] as number
      const outside = filter && this.#outside(filter, r, i)
      if (outside)
        this.#problem(
          `${name(k)}: the export says it holds only "${filter.text}", but this log message ${outside}`,
        )
      if (k > 0) {
        const previous = order[k - 1] as number
        const before = r.counter[previous] as number
        if (counter === before)
          this.#problem(`${name(k)}: signature counter ${counter} also used by ${name(k - 1)}`)
        else if (counter !== before + 1 && !counterGaps)
          this.#problem(
            `${name(k)}: signature counter jumps from ${before} to ${counter}: ${counter - before - 1} log message(s) missing after ${name(k - 1)}`,
          )
        const timeReset =
          r.code[previous] === Code.System &&
          /^updatetime$/i.test(this.#strings[r.text[previous] as number] ?? '')
        if ((r.time[i] as number) < (r.time[previous] as number) && !timeReset)
          this.#problem(
            `${name(k)}: logTime is earlier than that of the log message before it, ${name(k - 1)}`,
          )
      }
      const code = r.code[i] as Code
      if (code > Code.Finish) continue
      const number = r.transaction[i] as number
      const client = r.text[i] as number
      if (code === Code.Start) {
        if (open.has(number) || seenBefore(number) || (firstStarted > 0 && number < firstStarted)) {
          this.#problem(`${name(k)}: transaction ${number} is started again (or out of order)`)
          continue
        }
        if (lastStarted > 0 && number !== lastStarted + 1 && !numberGaps)
          this.#problem(
            `${name(k)}: transaction numbers ${lastStarted + 1}..${number - 1} are missing before it`,
          )
        if (firstStarted === 0) firstStarted = number
        lastStarted = number
        open.set(number, client)
        transactions++
        continue
      }
      const startedBy = open.get(number)
      if (startedBy === undefined) {
        if (seenBefore(number))
          this.#problem(`${name(k)}: transaction ${number} continues after its FinishTransaction`)
        // An export that starts in the middle may hold the end of an earlier transaction.
        else if (firstCounter === 1 || number > lastStarted)
          this.#problem(`${name(k)}: transaction ${number} was never started`)
        continue
      }
      if (startedBy !== client)
        this.#problem(`${name(k)}: transaction ${number} was started by another client`)
      if (code === Code.Finish) open.delete(number)
    }
    const last = r.length ? (r.counter[order[r.length - 1] as number] as number) : 0
    let earliest = Number.POSITIVE_INFINITY
    let latest = Number.NEGATIVE_INFINITY
    for (let i = 0; i < r.length; i++) {
      earliest = Math.min(earliest, r.time[i] as number)
      latest = Math.max(latest, r.time[i] as number)
    }
    const times = r.length ? { first: earliest, last: latest } : null
    return { transactions, open: open.size, first: firstCounter, last, times }
  }
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString()

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
