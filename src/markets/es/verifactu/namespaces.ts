const BASE =
  'https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws'

/** Namespaces of the AEAT VERI*FACTU web service (SistemaFacturacion.wsdl and its XSDs). */
export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  sfLR: `${BASE}/SuministroLR.xsd`,
  sf: `${BASE}/SuministroInformacion.xsd`,
  sfR: `${BASE}/RespuestaSuministro.xsd`,
  sfLRC: `${BASE}/ConsultaLR.xsd`,
  sfLRRC: `${BASE}/RespuestaConsultaLR.xsd`,
} as const

/** The SOAP endpoints of the WSDL (service sfVerifactu). */
export const AEAT_ENDPOINTS = {
  production: 'https://www1.agenciatributaria.gob.es/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP',
  productionSeal: 'https://www10.agenciatributaria.gob.es/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP',
  test: 'https://prewww1.aeat.es/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP',
  testSeal: 'https://prewww10.aeat.es/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP',
} as const

/** Path of the VERI*FACTU SOAP service (the simulator serves it too). */
export const VERIFACTU_PATH = '/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP'

export const MAX_RECORDS_PER_SUBMISSION = 1000
