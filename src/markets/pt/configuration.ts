import { createPrivateKey, type KeyObject } from 'node:crypto'
import { isCp1252 } from '../../core/cp1252.ts'
import { invalid } from '../../core/errors.ts'
import {
  PT_DOCUMENT_TYPES,
  PT_REGIONS,
  type PtCashboxConfig,
  type PtDocumentType,
  type PtRegion,
  type PtSeries,
} from './ports.ts'

/** What an operator sends to configure a PT cash box (PUT /pt/v1/cashbox, `fiscalbox pt configure`). */
export interface PtConfigRequest {
  nif?: unknown
  companyName?: unknown
  address?: unknown
  certificateNumber?: unknown
  region?: unknown
  privateKey?: unknown
  keyVersion?: unknown
  series?: unknown
}

/** The configuration as parsed: the private key still in the clear, the caller seals it. */
export type ParsedPtConfig = Omit<PtCashboxConfig, 'privateKeySealed' | 'publicKey'> & {
  privateKey: KeyObject | undefined
}

/** One series per document type and kind (normal, manual) is all a cash box uses; a few more are spare. */
const MAX_SERIES = 20

/** A Portuguese NIF: nine digits, the last a mod-11 check digit (weights 9 to 2). */
export function isValidNif(nif: string): boolean {
  if (!/^[1-9]\d{8}$/.test(nif)) return false
  let sum = 0
  for (let i = 0; i < 8; i++) sum += Number(nif[i]) * (9 - i)
  const check = 11 - (sum % 11)
  return (check >= 10 ? 0 : check) === Number(nif[8])
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined

function textOf(value: unknown, field: string, max: number, pattern?: RegExp, rule?: string): string {
  const reason = rule ?? `must be text of 1 to ${max} characters`
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) throw invalid(field, reason)
  if (pattern && !pattern.test(value)) throw invalid(field, reason)
  if (!isCp1252(value)) throw invalid(field, `${reason}, in Windows-1252 (the SAF-T file’s encoding)`)
  return value.trim()
}

function nifOf(value: unknown): string {
  if (typeof value !== 'string' || !isValidNif(value))
    throw invalid('nif', 'must be the issuer’s Portuguese NIF: nine digits with a valid check digit')
  return value
}

function privateKeyOf(value: unknown): KeyObject | undefined {
  if (value === undefined) return undefined
  const reason =
    'must be the PEM of the RSA private key registered with the AT (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----), 1024 to 4096 bits'
  if (typeof value !== 'string') throw invalid('privateKey', reason)
  let key: KeyObject
  try {
    key = createPrivateKey({ key: value, format: 'pem' })
  } catch {
    throw invalid('privateKey', reason)
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
  if (key.asymmetricKeyType !== 'rsa' || bits < 1024 || bits > 4096) throw invalid('privateKey', reason)
  return key
}

function keyVersionOf(value: unknown): number {
  if (value === undefined) return 1
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  if (!Number.isSafeInteger(n) || (n as number) < 1 || (n as number) > 999)
    throw invalid(
      'keyVersion',
      'must be the key’s version registered with the AT, a whole number from 1 to 999',
    )
  return n as number
}

function addressOf(value: unknown): PtCashboxConfig['address'] {
  if (value === undefined)
    return { addressDetail: 'Desconhecido', city: 'Desconhecido', postalCode: '0000-000' }
  const a = record(value)
  if (!a) throw invalid('address', 'must be an object {addressDetail, city, postalCode}')
  return {
    addressDetail: textOf(a.addressDetail, 'address.addressDetail', 100),
    city: textOf(a.city, 'address.city', 50),
    postalCode: textOf(
      a.postalCode,
      'address.postalCode',
      8,
      /^\d{4}-\d{3}$/,
      'must be a Portuguese postal code such as 1000-001',
    ),
  }
}

function seriesOf(value: unknown): PtSeries[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_SERIES)
    throw invalid(
      'series',
      `must list the series the AT registered (at most ${MAX_SERIES}), e.g. [{"documentType": "FS", "series": "FS2025", "validationCode": "AAJFJNK6JJ"}]`,
    )
  const seen = new Set<string>()
  return value.map((item, i): PtSeries => {
    const at = `series[${i}]`
    const s = record(item)
    if (!s) throw invalid(at, 'must be an object {documentType, series, validationCode}')
    if (!PT_DOCUMENT_TYPES.includes(s.documentType as PtDocumentType))
      throw invalid(`${at}.documentType`, `must be one of ${PT_DOCUMENT_TYPES.join(', ')}`)
    const documentType = s.documentType as PtDocumentType
    // InvoiceNo is `{type} {series}/{number}`: the series may hold neither spaces nor slashes.
    const series = textOf(
      s.series,
      `${at}.series`,
      35,
      /^[A-Za-z0-9_.-]+$/,
      'must be the series name: 1 to 35 letters, digits, "-", "_" or "." (no spaces or slashes)',
    )
    const validationCode = textOf(
      s.validationCode,
      `${at}.validationCode`,
      70,
      /^[A-Z0-9]{8,70}$/,
      'must be the validation code the AT gave the series: at least 8 upper-case letters or digits',
    )
    if (s.manual !== undefined && typeof s.manual !== 'boolean')
      throw invalid(`${at}.manual`, 'must be true (handwritten documents entered later) or false')
    const manual = s.manual === true
    if (manual && (documentType === 'NC' || documentType === 'RG'))
      throw invalid(`${at}.manual`, 'manual series are for FT and FS documents')
    const key = `${documentType}/${manual}`
    if (seen.has(key))
      throw invalid(
        `${at}.documentType`,
        `a ${manual ? 'manual ' : ''}${documentType} series is listed twice`,
      )
    seen.add(key)
    const lastNumber = s.lastNumber ?? 0
    if (!Number.isSafeInteger(lastNumber) || (lastNumber as number) < 0)
      throw invalid(
        `${at}.lastNumber`,
        'must be the number of the last document issued in the series, 0 or more',
      )
    const lastHash = s.lastHash ?? ''
    if (typeof lastHash !== 'string' || (lastHash !== '' && !/^[A-Za-z0-9+/]+={0,2}$/.test(lastHash)))
      throw invalid(`${at}.lastHash`, 'must be the base64 Hash of the last document issued in the series')
    if ((lastNumber === 0) !== (lastHash === ''))
      throw invalid(`${at}.lastHash`, 'continues a series together with lastNumber: give both or neither')
    return { documentType, series, validationCode, manual, lastNumber: lastNumber as number, lastHash }
  })
}

/** Checks a configuration request field by field (400 naming the first bad one) and fills in the defaults. */
export function parsePtConfig(request: PtConfigRequest): ParsedPtConfig {
  const region = request.region ?? 'PT'
  if (!PT_REGIONS.includes(region as PtRegion))
    throw invalid('region', `must be one of ${PT_REGIONS.join(', ')} (mainland, Azores, Madeira)`)
  return {
    nif: nifOf(request.nif),
    companyName: textOf(request.companyName, 'companyName', 100),
    address: addressOf(request.address),
    certificateNumber: textOf(
      request.certificateNumber,
      'certificateNumber',
      5,
      /^\d{1,5}$/,
      'must be the program’s AT certificate number, 1 to 5 digits',
    ),
    region: region as PtRegion,
    keyVersion: keyVersionOf(request.keyVersion),
    privateKey: privateKeyOf(request.privateKey),
    series: seriesOf(request.series),
  }
}
