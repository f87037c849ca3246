import { parseXml } from '../../es/xml/parse.ts'
import { attribute, childElements, el, localName, textOf, type XmlElement } from '../../es/xml/tree.ts'
import { parseAmount } from './amounts.ts'
import { envelope, payloadOf } from './envelope.ts'

/**
 * The device's answer: `success`, `code` (empty, or e.g. "PRINTER ERROR", "EPTR_REC_EMPTY"), `status`
 * (on failure the firmware error number, 2 in published successes) and the `addInfo` fields in the
 * order its `elementList` names them.
 */
export interface FpmateResponse {
  success: boolean
  code: string
  status: number
  addInfo?: Record<string, string>
}

/** An answer that is not an fpmate response at all (the device or something in between is broken). */
export class FpmateResponseError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'FpmateResponseError'
  }
}

export function serializeResponse(response: FpmateResponse): string {
  const info = response.addInfo
  return envelope(
    el(
      'response',
      { success: String(response.success), code: response.code, status: String(response.status) },
      info &&
        el(
          'addInfo',
          null,
          el('elementList', null, Object.keys(info).join(',')),
          Object.entries(info).map(([name, value]) => el(name, null, value)),
        ),
    ),
  )
}

export function parseResponse(xml: string): FpmateResponse {
  let root: XmlElement | undefined
  try {
    root = payloadOf(parseXml(xml))
  } catch (error) {
    throw new FpmateResponseError(`the answer is not XML: ${(error as Error).message}`)
  }
  if (!root || localName(root.name) !== 'response')
    throw new FpmateResponseError('the answer holds no <response> element')
  const success = attribute(root, 'success')
  if (success !== 'true' && success !== 'false')
    throw new FpmateResponseError(`<response> success must be true or false, got ${JSON.stringify(success)}`)
  const statusText = attribute(root, 'status') ?? '0'
  if (!/^-?\d+$/.test(statusText.trim()))
    throw new FpmateResponseError(`<response> status must be a number, got ${JSON.stringify(statusText)}`)
  const response: FpmateResponse = {
    success: success === 'true',
    code: attribute(root, 'code') ?? '',
    status: Number(statusText),
  }
  const addInfo = childElements(root, 'addInfo')[0]
  if (addInfo) {
    const fields: Record<string, string> = {}
    for (const field of childElements(addInfo)) {
      const name = localName(field.name)
      if (name !== 'elementList') fields[name] = textOf(field) ?? ''
    }
    response.addInfo = fields
  }
  return response
}

/** What a fiscal receipt's success answer says about the document the device just made. */
export interface FiscalReceiptAnswer {
  /** The document number within the day (nnnn of "DOCUMENTO N. zzzz-nnnn"). */
  documentNumber: number
  /** The Z number of the day the document belongs to (zzzz). */
  zNumber: number
  amount: number
  serialNumber: string
  printerStatus: string
  /** Device clock, local time, `yyyy-MM-ddTHH:mm:ss` (seconds 00 when the firmware only sends HH:mm). */
  moment: string
}

function field(response: FpmateResponse, name: string): string {
  const value = response.addInfo?.[name]
  if (value === undefined) throw new FpmateResponseError(`the answer lacks addInfo/${name}`)
  return value
}

function count(response: FpmateResponse, name: string): number {
  const value = field(response, name).trim()
  if (!/^\d{1,9}$/.test(value))
    throw new FpmateResponseError(`addInfo/${name} must be a whole number, got ${JSON.stringify(value)}`)
  return Number(value)
}

/** Reads the fields of a fiscal receipt's success answer; throws FpmateResponseError when one is missing. */
export function readFiscalReceiptAnswer(response: FpmateResponse): FiscalReceiptAnswer {
  return {
    documentNumber: count(response, 'fiscalReceiptNumber'),
    zNumber: count(response, 'zRepNumber'),
    amount: parseAmount(field(response, 'fiscalReceiptAmount')),
    serialNumber: field(response, 'serialNumber'),
    printerStatus: field(response, 'printerStatus'),
    moment: momentOf(response),
  }
}

function momentOf(response: FpmateResponse): string {
  const iso = response.addInfo?.receiptISODateTime
  const isoMatch = iso ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(iso) : null
  if (isoMatch) {
    const [, y, mo, d, h, mi, s] = isoMatch
    return `${y}-${mo}-${d}T${h}:${mi}:${s}`
  }
  const date = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(field(response, 'fiscalReceiptDate'))
  const time = /^(\d{1,2}):(\d{2})$/.exec(field(response, 'fiscalReceiptTime'))
  if (!date || !time) throw new FpmateResponseError('fiscalReceiptDate/Time are not d/M/yyyy and HH:mm')
  const [, d, mo, y] = date
  const pad = (text = '') => text.padStart(2, '0')
  return `${y}-${pad(mo)}-${pad(d)}T${pad(time[1])}:${time[2]}:00`
}

/** The answer to printZReport: the Z just closed and the day's takings. */
export interface ZReportAnswer {
  zNumber: number
  dailyAmount: number
  printerStatus: string
}

export function readZReportAnswer(response: FpmateResponse): ZReportAnswer {
  return {
    zNumber: count(response, 'zRepNumber'),
    dailyAmount: parseAmount(field(response, 'dailyAmount')),
    printerStatus: field(response, 'printerStatus'),
  }
}

/** The `responseData` of a directIO answer. */
export const readDirectIoData = (response: FpmateResponse): string => field(response, 'responseData')
