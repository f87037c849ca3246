import type { Territory } from './territories.ts'

/** Where a territory's live TicketBAI records go. */
export interface TicketBaiEndpoints {
  submit: string
  cancel?: string
  /** The simulator's look-up; the territories publish none (see ticketbai/authority.ts). */
  query?: string
}

/**
 * The territories' production endpoints, as the Basque treasuries publish them in their technical
 * documentation (Araba: "TicketBAI/v1/facturas" and ".../anulaciones"; Gipuzkoa: "sarrerak/alta" and
 * ".../baja"; Bizkaia: the LROE presentation service N3B4000M, which takes cancellations too). The same
 * URLs are used by public clients, e.g. fiskaltrust's middleware (SCU.ES.TicketBAIGipuzkoa's
 * ProdEndpoint https://tbai-z.egoitza.gipuzkoa.eus with /sarrerak/alta and /sarrerak/baja). Each can be
 * overridden by FISCALBOX_ES_TBAI_<TERRITORY>_URL / _CANCEL_URL (docs/country-es.md).
 */
export const LIVE_TICKETBAI_ENDPOINTS: Record<Territory, TicketBaiEndpoints> = {
  araba: {
    submit: 'https://ticketbai.araba.eus/TicketBAI/v1/facturas/',
    cancel: 'https://ticketbai.araba.eus/TicketBAI/v1/anulaciones/',
  },
  bizkaia: { submit: 'https://sarrerak.bizkaia.eus/N3B4000M/aurkezpena' },
  gipuzkoa: {
    submit: 'https://tbai-z.egoitza.gipuzkoa.eus/sarrerak/alta',
    cancel: 'https://tbai-z.egoitza.gipuzkoa.eus/sarrerak/baja',
  },
}
