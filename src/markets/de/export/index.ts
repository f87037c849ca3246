/**
 * The TSS TAR export (BSI TR-03151 5.1 / TR-03153). Entry point for the TSS and the export API:
 *
 *   await writeTssExport(
 *     { info: { description, manufacturer, version },
 *       certificates: [{ der: leaf }, { der: subCa }, { der: root }],
 *       logMessages: rows,   // AsyncIterable<ExportLogMessage> in signature counter order
 *       mtime },             // optional, seconds
 *     output,                // fs.WriteStream, reply.raw, ... (ended when done)
 *     ({ logMessages }) => progress.update(logMessages))
 *
 * or `tssExportStream(content).stream` for a Readable (e.g. `reply.send(stream)`).
 */
export {
  type CertificateFormat,
  certificateFileName,
  type ExportInfo,
  infoCsv,
  keyHashHex,
  type LogNameParts,
  type LogTime,
  logFileName,
  publicPointOf,
  type TransactionOperation,
  UniqueLogNames,
} from './export-names.ts'
export { type TarEntry, tarChunks } from './tar-writer.ts'
export {
  type ExportCertificate,
  type ExportLogMessage,
  type TssExportContent,
  type TssExportProgress,
  type TssExportResult,
  tssExportStream,
  writeTssExport,
} from './tss-export.ts'
