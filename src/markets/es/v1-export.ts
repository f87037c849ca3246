import type { Party, VerifactuRecord } from './verifactu/records.ts'
import { MAX_RECORDS_PER_SUBMISSION } from './verifactu/namespaces.ts'
import { submissionBody } from './verifactu/xml.ts'
import { serializeDocument } from './xml/serialize.ts'
import { parseSpanishRecord } from './v1-fiscalizer.ts'

/**
 * A location's VERI*FACTU records as AEAT XML: RegFactuSistemaFacturacion documents (the body of the
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

/** The VERI*FACTU record inside a stored v1 record text, or a clear error for another system. */
export function verifactuRecordOf(text: string, sequence: number): VerifactuRecord {
  let document: ReturnType<typeof parseSpanishRecord>
  try {
    document = parseSpanishRecord(text)
  } catch {
    throw new Error(`record ${sequence} is not a Spanish record: this location is not a Spanish one`)
  }
  if (document.record.system !== 'verifactu')
    throw new Error(`record ${sequence} is a ${document.record.system} record, not VERI*FACTU`)
  return document.record.value
}
