/**
 * The VeriFactu QR code URL (AEAT QR spec v0.5.0): base?nif=&numserie=&fecha=&importe=, values
 * URL-encoded (the series+number may hold '&', '/', ' '...). Printed as an ISO/IEC 18004 QR code with
 * error correction level M, 30x30 to 40x40 mm, with "VERI*FACTU" next to it.
 */
export const QR_BASES = {
  verifactu: {
    production: 'https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR',
    test: 'https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR',
  },
  noVerifactu: {
    production: 'https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQRNoVerifactu',
    test: 'https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQRNoVerifactu',
  },
} as const

export type AeatEnvironment = 'production' | 'test'

export interface QrFields {
  issuerNif: string
  seriesNumber: string
  /** DD-MM-YYYY */
  issueDate: string
  /** ImporteTotal exactly as in the record */
  total: string
}

export function verifactuQrUrl(
  fields: QrFields,
  environment: AeatEnvironment,
  mode: 'verifactu' | 'noVerifactu' = 'verifactu',
): string {
  const query = [
    ['nif', fields.issuerNif],
    ['numserie', fields.seriesNumber],
    ['fecha', fields.issueDate],
    ['importe', fields.total],
  ]
    .map(([k, v]) => `${k}=${encodeURIComponent(v as string)}`)
    .join('&')
  return `${QR_BASES[mode][environment]}?${query}`
}

/** The text printed with a VERI*FACTU QR code (either form). */
export const QR_CAPTION = {
  short: 'VERI*FACTU',
  long: 'Factura verificable en la sede electrónica de la AEAT',
} as const
