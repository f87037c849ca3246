import { serializeDocument } from '../xml/serialize.ts'
import { MAX_RECORDS_PER_SUBMISSION } from './namespaces.ts'
import type { Party, VerifactuRecord } from './records.ts'
import { submissionBody } from './xml.ts'

/**
 * A cash box's VERI*FACTU records as AEAT XML: RegFactuSistemaFacturacion documents (the body of the
 * SOAP request, valid against SuministroLR.xsd) of at most 1000 records each, in chain order, so that
 * `fiscalbox verify-es verifactu` (or the AEAT's own tools) can check every Huella and link.
 */
export function verifactuDocuments(taxpayer: Party, records: readonly VerifactuRecord[]): string[] {
  const documents: string[] = []
  for (let i = 0; i < records.length; i += MAX_RECORDS_PER_SUBMISSION) {
    const part = records.slice(i, i + MAX_RECORDS_PER_SUBMISSION)
    documents.push(serializeDocument(submissionBody({ taxpayer }, part)))
  }
  return documents
}
