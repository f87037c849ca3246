import { type CaseCode, type CaseCodeForm, caseCodeFormOf, parseCaseCode } from '../case-codes.ts'
import { invalid } from '../errors.ts'
import { type Micros, parseDecimal } from '../money.ts'
import { PAY_ACTIONS, type PayAction } from './payment.ts'
import { USE_AUTO } from './providers.ts'

/** The /v2/pay body after structural (schema) validation. */
export interface PayRequestBody {
  Action: string
  Protocol?: string
  cbTerminalID?: string
  Currency?: string
  cbPayItem: Record<string, unknown>
  [extra: string]: unknown
}

export interface PayRequest {
  action: PayAction
  protocol: string
  terminalId: string | undefined
  currency: string
  description: string
  amount: Micros
  /** The POS's Quantity as sent (echoed in ftPayItems), or undefined. */
  quantity: unknown
  payItemCase: CaseCode | undefined
  /**
   * How the answer writes ftPayItemCase: as the request wrote it, and as a JSON number when it has none,
   * because fiskaltrust's own client sends no case code to /pay and reads ftPayItemCase as a number.
   */
  caseCodeForm: CaseCodeForm
  caseData: Record<string, unknown>
  provider: Record<string, unknown>
  protocolRequest: Record<string, unknown>
  /** cancel and refund: the provider transaction id of the payment they reverse. */
  originalTransactionId: string | undefined
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

function optionalObject(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined || value === null) return {}
  if (!isObject(value)) throw invalid(field, 'must be an object')
  return value
}

/** ftPayItems travel as JSON numbers: 15 significant digits is what a double holds exactly. */
const MAX_DIGITS = 15

function significantDigits(amount: Micros): number {
  const digits = (amount < 0n ? -amount : amount).toString().replace(/0+$/, '')
  return digits.length
}

/**
 * Rules a schema cannot express: exact amounts with the sign the action needs (payments positive, cancel
 * and refund negative, as in the reference), case codes, and the original transaction of a reversal.
 */
export function parsePayRequest(body: PayRequestBody, headerTerminalId?: string): PayRequest {
  const action = body.Action as PayAction
  if (!PAY_ACTIONS.includes(action)) throw invalid('Action', `must be one of ${PAY_ACTIONS.join(', ')}`)
  const item = body.cbPayItem
  if (typeof item.Description !== 'string' || item.Description.trim() === '') {
    throw invalid('cbPayItem.Description', 'must be a non-empty string')
  }
  const amount = parseDecimal(item.Amount, 'cbPayItem.Amount')
  const reversal = action === 'cancel' || action === 'refund'
  if (amount === 0n) throw invalid('cbPayItem.Amount', 'must not be 0')
  if (!reversal && amount < 0n) throw invalid('cbPayItem.Amount', `must be positive for ${action}`)
  if (reversal && amount > 0n) {
    throw invalid('cbPayItem.Amount', `must be negative for ${action} (the amount given back)`)
  }
  if (significantDigits(amount) > MAX_DIGITS) {
    throw invalid('cbPayItem.Amount', `must have at most ${MAX_DIGITS} significant digits`)
  }
  if (item.Quantity !== undefined) parseDecimal(item.Quantity, 'cbPayItem.Quantity')
  const payItemCase =
    item.ftPayItemCase === undefined || item.ftPayItemCase === null
      ? undefined
      : parseCaseCode(item.ftPayItemCase, 'cbPayItem.ftPayItemCase')
  const caseData = optionalObject(item.ftPayItemCaseData, 'cbPayItem.ftPayItemCaseData')
  const provider = optionalObject(caseData.Provider, 'cbPayItem.ftPayItemCaseData.Provider')
  const protocolRequest = optionalObject(
    provider.ProtocolRequest,
    'cbPayItem.ftPayItemCaseData.Provider.ProtocolRequest',
  )
  let originalTransactionId: string | undefined
  if (reversal) {
    const field = 'cbPayItem.ftPayItemCaseData.Provider.ProtocolResponse.TransactionId'
    const response = optionalObject(
      provider.ProtocolResponse,
      'cbPayItem.ftPayItemCaseData.Provider.ProtocolResponse',
    )
    if (typeof response.TransactionId !== 'string' || response.TransactionId === '') {
      throw invalid(
        field,
        `is required for ${action}: send the pay item of the payment being reversed as /v2/pay returned it, with a negative Amount`,
      )
    }
    originalTransactionId = response.TransactionId
  }
  const terminalId = body.cbTerminalID ?? headerTerminalId
  const currency = body.Currency ?? (typeof item.Currency === 'string' ? item.Currency : 'EUR')
  if (!/^[A-Z]{3}$/.test(currency)) throw invalid('Currency', 'must be an ISO 4217 code such as EUR')
  return {
    action,
    protocol: body.Protocol ?? USE_AUTO,
    terminalId,
    currency,
    description: item.Description,
    amount,
    quantity: item.Quantity,
    payItemCase,
    caseCodeForm: caseCodeFormOf(item.ftPayItemCase) ?? 'number',
    caseData,
    provider,
    protocolRequest,
    originalTransactionId,
  }
}
