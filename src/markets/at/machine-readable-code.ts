import { formatAmount } from './rksv-primitives.ts'

/** The five tax sets of a receipt in the order of the code: Normal, Ermäßigt-1, Ermäßigt-2, Null, Besonders. */
export type TaxSetAmounts = readonly [bigint, bigint, bigint, bigint, bigint]

export const TAX_SET_NAMES = [
  'Betrag-Satz-Normal',
  'Betrag-Satz-Ermaessigt-1',
  'Betrag-Satz-Ermaessigt-2',
  'Betrag-Satz-Null',
  'Betrag-Satz-Besonders',
] as const

export interface MachineReadableFields {
  /** AT0 for a closed system, AT1, AT2, ... for the trust provider of a certificate. */
  provider: string
  cashboxId: string
  receiptId: string
  /** yyyy-MM-ddTHH:mm:ss in Vienna local time. */
  localTime: string
  amounts: TaxSetAmounts
  /** Encrypted turnover counter (base64), or the TRA / STO marker. */
  turnover: string
  /** Closed system: `{Ordnungsbegriff}-{key id}`; certificate: the serial number in hex. */
  certificate: string
  chain: string
}

/**
 * The signed payload (maschinenlesbarer Code without the signature):
 * `_R1-AT{n}_{Kassen-ID}_{Belegnummer}_{time}_{5 amounts}_{turnover}_{certificate}_{chain}`.
 */
export const machineReadableCode = (f: MachineReadableFields): string =>
  [
    '',
    `R1-${f.provider}`,
    f.cashboxId,
    f.receiptId,
    f.localTime,
    ...f.amounts.map(formatAmount),
    f.turnover,
    f.certificate,
    f.chain,
  ].join('_')
