import { ErrorCode, FiscalError, invalid } from '../../core/errors.ts'
import type { FrConfig, FrStore } from './ports.ts'

/** What a PUT /fr/v1/cashbox or `fiscalbox fr configure` sends, unchecked. */
export interface FrConfigRequest {
  siret?: unknown
  name?: unknown
}

/** La Poste's establishments have SIRETs whose digits add up to a multiple of 5 instead of the Luhn sum. */
const LA_POSTE_SIREN = '356000000'

/** The Luhn check INSEE gives SIREN and SIRET numbers. */
function luhnHolds(digits: string): boolean {
  let sum = 0
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i])
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2
    sum += d
  }
  return sum % 10 === 0
}

export function checkedConfig(body: FrConfigRequest): { siret: string; name: string } {
  const { siret, name } = body
  if (typeof siret !== 'string' || !/^\d{14}$/.test(siret)) {
    throw invalid('siret', 'must be the 14 digits of the establishment\'s SIRET, e.g. "73282932000074"')
  }
  const laPoste = siret.startsWith(LA_POSTE_SIREN)
  const holds = laPoste ? [...siret].reduce((s, d) => s + Number(d), 0) % 5 === 0 : luhnHolds(siret)
  if (!holds) throw invalid('siret', 'fails the SIRET check digit (Luhn): a digit is wrong')
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200 || /[\u0000-\u001f]/u.test(name)) {
    throw invalid(
      'name',
      'must be the business name as printed on receipts: 1 to 200 characters, no control characters',
    )
  }
  return { siret, name }
}

export const notConfigured = () =>
  new FiscalError(
    ErrorCode.MarketNotConfigured,
    'this French cash box has no configuration yet: PUT /fr/v1/cashbox or `fiscalbox fr configure`',
    { field: 'headers.x-cashbox-id', reason: 'the cash box is not configured for France' },
  )

/**
 * A French cash box's establishment (SIRET, name), keyed by cash box id. Every change gets the next version;
 * the market journals it in the technical event journal with the cash box's next receipt.
 */
export class FrConfiguration {
  constructor(
    private readonly store: FrStore,
    private readonly clock: () => number,
  ) {}

  async configure(cashboxId: string, body: FrConfigRequest): Promise<FrConfig> {
    const { siret, name } = checkedConfig(body)
    return this.store.putConfig(cashboxId, siret, name, new Date(this.clock()).toISOString())
  }

  async describe(cashboxId: string): Promise<FrConfig> {
    const config = await this.store.config(cashboxId)
    if (!config) throw notConfigured()
    return config
  }
}
