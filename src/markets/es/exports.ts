import { readFile } from 'node:fs/promises'
import { exportCashboxVerifactu } from '../../cli/export-verifactu.ts'
import { VerifactuVerifier } from '../../verify/verifactu-verifier.ts'
import type { ExportFormat } from '../module.ts'
import { esServicesOf } from './cashbox/index.ts'
import { verifactuSummary } from './cli/commands.ts'

/**
 * The VERI*FACTU records of a Spanish cash box as AEAT XML in chain order (RegFactuSistemaFacturacion,
 * 1000 records per document: more are written as parts `out-2`, `out-3`...).
 */
const verifactu: ExportFormat = {
  id: 'es-verifactu',
  label: 'VERI*FACTU records (AEAT XML)',
  extension: '.xml',
  mediaType: 'application/xml',
  appliesTo: async (runtime, cashbox) =>
    (await esServicesOf(runtime.marketFor).store.config(cashbox.queueId))?.system === 'verifactu',
  async write(runtime, cashbox, _period, out, progress) {
    const { files, records } = await exportCashboxVerifactu(runtime, cashbox.id, out, progress)
    return { files, items: records }
  },
  async verify(_runtime, _cashbox, files) {
    const verifier = new VerifactuVerifier()
    for (const file of files) verifier.document(await readFile(file, 'utf8'), file)
    const report = verifier.finish()
    return { ok: report.problems.length === 0, summary: verifactuSummary(report), problems: report.problems }
  },
}

export const spanishExports: readonly ExportFormat[] = [verifactu]
