import type { TicketBaiSoftware } from './ticketbai/invoice.ts'
import type { SoftwareSystem } from './verifactu/records.ts'

/** The software identity written into every record (SistemaInformatico, TicketBAI Software). */
export interface SpanishSoftware {
  producerName: string
  producerNif: string
  name: string
  id: string
  version: string
  /** LicenciaTBAI (given to the software by the territories) */
  ticketbaiLicense: string
}

export const FISCALBOX_SOFTWARE: SpanishSoftware = {
  producerName: 'fiscalbox contributors',
  // A placeholder in the format of a NIF: set FISCALBOX_ES_PRODUCER_NIF to the producer's own.
  producerNif: 'B00000034',
  name: 'fiscalbox',
  id: 'FB',
  version: '0.1.0',
  ticketbaiLicense: 'TBAIFISCALBOX00',
}

/** The information system of VERI*FACTU records (SistemaInformatico): fiscalbox, in one installation. */
export const verifactuSystemOf = (software: SpanishSoftware, installationNumber: string): SoftwareSystem => ({
  producerName: software.producerName,
  producerNif: software.producerNif,
  name: software.name,
  id: software.id,
  version: software.version,
  installationNumber,
  onlyVerifactu: true,
  multipleTaxpayers: true,
  hasMultipleTaxpayers: true,
})

/** The software of TicketBAI documents (Software: licence, developer, name, version). */
export const ticketBaiSoftwareOf = (software: SpanishSoftware): TicketBaiSoftware => ({
  license: software.ticketbaiLicense,
  developerNif: software.producerNif,
  name: software.name,
  version: software.version,
})
