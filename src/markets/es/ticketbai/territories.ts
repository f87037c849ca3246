/**
 * What differs between the three Basque tax authorities: the XAdES signature policy (identifier and
 * SHA-256 digest of the policy document), the QR code base and the submission channel.
 */
export type Territory = 'araba' | 'bizkaia' | 'gipuzkoa'
export const TERRITORIES: readonly Territory[] = ['araba', 'bizkaia', 'gipuzkoa']

export interface TerritoryRules {
  name: string
  policy: { identifier: string; digestSha256: string }
  qrBase: string
  /** Bizkaia takes invoices through the LROE (Batuz) channel in batches; the others one by one. */
  channel: 'upload' | 'lroe'
}

export const TERRITORY_RULES: Record<Territory, TerritoryRules> = {
  araba: {
    name: 'Araba',
    policy: {
      identifier: 'https://ticketbai.araba.eus/tbai/sinadura/',
      digestSha256: '4Vk3uExj7tGn9DyUCPDsV9HRmK6KZfYdRiW3StOjcQA=',
    },
    qrBase: 'https://ticketbai.araba.eus/tbai/qrtbai/',
    channel: 'upload',
  },
  bizkaia: {
    name: 'Bizkaia',
    policy: {
      identifier:
        'https://www.batuz.eus/fitxategiak/batuz/ticketbai/sinadura_elektronikoaren_zehaztapenak_especificaciones_de_la_firma_electronica_v1_0.pdf',
      digestSha256: 'Quzn98x3PMbSHwbUzaj5f5KOpiH0u8bvmwbbbNkO9Es=',
    },
    qrBase: 'https://batuz.eus/QRTBAI/',
    channel: 'lroe',
  },
  gipuzkoa: {
    name: 'Gipuzkoa',
    policy: {
      identifier: 'https://www.gipuzkoa.eus/ticketbai/sinadura',
      digestSha256: 'vSe1CH7eAFVkGN0X2Y7Nl9XGUoBnziDA5BGUSsyt8mg=',
    },
    qrBase: 'https://tbai.egoitza.gipuzkoa.eus/qr/',
    channel: 'upload',
  },
}

export const TBAI_NAMESPACE = 'urn:ticketbai:emision'
export const TBAI_CANCEL_NAMESPACE = 'urn:ticketbai:anulacion'
