/**
 * The TicketBAI wire formats shared by the client and the simulator. Araba and Gipuzkoa receive each
 * signed invoice as the body of one POST (cancellations, AnulaTicketBai, to another) and answer a
 * TicketBaiResponse (Estado 00 received, 01 refused, with validation results). Bizkaia receives
 * invoices through the LROE channel, in batches of model 240, operation A00 for invoices and AN0 for
 * cancellations (here the request and answer bodies; the real channel also wraps them in gzip and
 * eus-bizkaia-n3-* headers, which the deployment's Bizkaia connector adds).
 */
export const TBAI_PATHS = {
  upload: '/tbai/alta',
  cancel: '/tbai/baja',
  query: '/tbai/consulta',
  lroe: '/tbai/lroe',
} as const

export const LROE_NAMESPACE =
  'https://www.batuz.eus/fitxategiak/batuz/LROE/esquemas/LROE_PJ_240_1_1_FacturasEmitidas_ConSG_AltaPeticion_V1_0_2.xsd'
export const LROE_ANSWER_NAMESPACE =
  'https://www.batuz.eus/fitxategiak/batuz/LROE/esquemas/LROE_PJ_240_1_1_FacturasEmitidas_ConSG_AltaRespuesta_V1_0_1.xsd'

/** Simulator result codes (modelled on the services' lists). */
export const TBAI_CODES = {
  malformed: '001',
  signature: '002',
  policy: '003',
  untrusted: '004',
  duplicate: '005',
  chain: '006',
  unknownInvoice: '007',
  alreadyCancelled: '008',
} as const
