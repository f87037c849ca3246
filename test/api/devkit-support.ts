import { randomUUID } from 'node:crypto'
import type { Pos, Reply } from './support.ts'
import { parseExactJson, RECEIPT_CASE } from './support.ts'

/**
 * fiskaltrust's POS System API devkit (github fiskaltrust/possystemapi-devkit, libPosSystemAPI) as it
 * talks on the wire, written from its sources: HttpClient default headers x-cashbox-id,
 * x-cashbox-accesstoken and x-possystem-id (00000000-… in the sandbox), x-operation-id per request, bodies
 * from System.Text.Json with DefaultIgnoreCondition WhenWritingDefault (nulls, 0 and default DateTimes
 * left out), decimals with their scale (20.0), ulong case codes as bare numbers, DateTime as ISO 8601
 * with up to 7 fractional digits. Nothing here comes from fiscalbox's own code.
 */
export const SANDBOX_POS_SYSTEM_ID = '00000000-0000-0000-0000-000000000000'

/** ReceiptCaseBuilder.Build(): ((ulong)(c0 << 8) + c1) << 48, plus the case; no version nibble. */
export const devkitReceiptCase = (country: string, receiptCase: bigint): bigint =>
  ((BigInt(country.charCodeAt(0)) << 8n) + BigInt(country.charCodeAt(1))) * 2n ** 48n + receiptCase

/**
 * A request of the devkit: its JSON text (numbers exactly as written) and its headers. Without JSON, an
 * HttpRequestMessage without Content: no content-type and an empty body.
 */
export async function devkitCall(
  pos: Pos,
  path: string,
  json: string | undefined,
  operationId = randomUUID(),
): Promise<Reply> {
  const response = await pos.app.inject({
    method: 'POST',
    url: `/v2${path}`,
    headers: {
      'x-cashbox-id': pos.box.cashboxId,
      'x-cashbox-accesstoken': pos.box.accessToken,
      'x-possystem-id': SANDBOX_POS_SYSTEM_ID,
      'x-operation-id': operationId,
      ...(json === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    },
    ...(json === undefined ? {} : { payload: json }),
  })
  return {
    status: response.statusCode,
    headers: response.headers,
    payload: response.payload,
    json: () => parseExactJson(response.payload),
  }
}

/** A JSON value as System.Text.Json writes it; `Num` is a number written with exactly these characters. */
export class Num {
  constructor(readonly text: string) {}
}

/** Serializes like System.Text.Json with WhenWritingDefault: members that are undefined or null are left out. */
export function netJson(value: unknown): string {
  if (value instanceof Num) return value.text
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return `[${value.map(netJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).filter(([, v]) => v !== undefined && v !== null)
    return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${netJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** A DateTime of Kind Utc as System.Text.Json writes it: up to 7 fractional digits, trailing zeros cut. */
export function netDateTime(iso: string, extraTicks = ''): string {
  const [seconds, fraction = ''] = iso.replace(/Z$/, '').split('.')
  const digits = `${fraction}${extraTicks}`.padEnd(7, '0').slice(0, 7).replace(/0+$/, '')
  return `${seconds}${digits ? `.${digits}` : ''}Z`
}

/**
 * The devkit's ReceiptResponse model, read from /v2/sign's answer and written back for /v2/issue: ftState,
 * ftSignatureFormat and ftSignatureType as ulong (a hex string would not even deserialize), an
 * ftSignatureType of 0 and a null Caption left out, and no cbTerminalID or ftStateData (the model has
 * none). `moment` writes ftReceiptMoment; by default as System.Text.Json does.
 */
export function devkitReceiptResponse(signed: any, moment: (iso: string) => string = netDateTime): string {
  const ulong = (value: string) => new Num(BigInt(value).toString())
  return netJson({
    ftCashBoxIdentification: signed.ftCashBoxIdentification,
    ftReceiptIdentification: signed.ftReceiptIdentification,
    ftReceiptMoment: moment(signed.ftReceiptMoment),
    ftSignatures: signed.ftSignatures.map((s: any) => ({
      ftSignatureFormat: ulong(s.ftSignatureFormat),
      ftSignatureType: BigInt(s.ftSignatureType) === 0n ? undefined : ulong(s.ftSignatureType),
      Caption: s.Caption,
      Data: s.Data,
    })),
    ftState: ulong(signed.ftState),
    ftCashBoxID: signed.ftCashBoxID,
    cbReceiptReference: signed.cbReceiptReference,
    ftQueueID: signed.ftQueueID,
    ftQueueItemID: signed.ftQueueItemID,
    ftQueueRow: signed.ftQueueRow,
  })
}

/** HOWTO_02/08's two charge items, as the devkit's ChargeItem writes them (decimals keep their scale). */
const CHARGE_ITEMS = [
  { Quantity: new Num('1'), Description: 'Test Item 1', Amount: new Num('20.0'), VATRate: new Num('20.0') },
  { Quantity: new Num('2'), Description: 'Test Item 2', Amount: new Num('10.0'), VATRate: new Num('10.0') },
]

/** The devkit's ReceiptRequest, property order of its class, built by ReceiptCaseBuilder (no version nibble). */
export function devkitReceiptRequest(
  country: string,
  receiptCase: bigint,
  payItems: unknown[],
  extra: object = {},
): string {
  return netJson({
    cbReceiptReference: `TestReceipt_${randomUUID()}`,
    cbReceiptMoment: netDateTime(new Date().toISOString(), '4567'),
    cbChargeItems: receiptCase === RECEIPT_CASE.pos ? CHARGE_ITEMS : [],
    cbPayItems: payItems,
    ftReceiptCase: devkitReceiptCase(country, receiptCase),
    ...extra,
  })
}

/** A cash payment as IntegrationTestsSigning builds it: an ftPayItemId, no case (null is left out). */
export const devkitCashPayItem = () => ({
  ftPayItemId: randomUUID(),
  Description: 'Cash Payment',
  Amount: new Num('30.0'),
})
