import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { invalid } from '../../core/errors.ts'
import { verifyDep7 } from '../../verify/dep7-verifier.ts'
import type { ExportFormat, ExportPeriod } from '../module.ts'
import { dep7Summary, readDep7 } from './cli/verify-dep7.ts'
import { atServicesOf } from './index.ts'
import type { ReceiptRange } from './ports.ts'

/** A period's bounds as receipt moments (ISO 8601, inclusive). */
export function dep7Range(period: ExportPeriod): ReceiptRange {
  const moment = (text: string, field: 'from' | 'to') => {
    const at = new Date(text)
    if (Number.isNaN(at.getTime()))
      throw invalid(field, 'must be an ISO 8601 moment or day such as 2016-03-01T00:00:00Z or 2016-03-01')
    return at.toISOString()
  }
  return {
    ...(period.from ? { from: moment(period.from, 'from') } : {}),
    ...(period.to ? { to: moment(period.to, 'to') } : {}),
  }
}

/** The DEP7 export (Datenerfassungsprotokoll) of an Austrian cash box, checked with its AES key. */
export const dep7Export: ExportFormat = {
  id: 'at-dep7',
  label: 'DEP7 (RKSV Datenerfassungsprotokoll, JSON)',
  extension: '.json',
  mediaType: 'application/json',
  period: { from: 'first receipt moment (ISO 8601)', to: 'last receipt moment' },
  checkPeriod: (period) => void dep7Range(period),
  async write(runtime, cashbox, period, out, progress) {
    const chunks = atServicesOf(runtime.marketFor).dep7.chunks(cashbox.queueId, dep7Range(period))
    const file = createWriteStream(out)
    let receipts = 0
    // A chunk is a receipt, or a group's opening with its first receipt; the others frame the document.
    for await (const chunk of chunks) {
      if (chunk.startsWith(',') || chunk.includes('"Belege-kompakt"')) progress(++receipts)
      if (!file.write(chunk)) await once(file, 'drain')
    }
    file.end()
    await once(file, 'finish')
    return { files: [out], items: receipts }
  },
  async verify(runtime, cashbox, files) {
    const material = await atServicesOf(runtime.marketFor).dep7.cryptographicMaterial(cashbox.queueId)
    const report = verifyDep7(await readDep7(files[0] as string), material)
    return { ok: report.problems.length === 0, summary: dep7Summary(report), problems: report.problems }
  },
}

export const austrianExports: readonly ExportFormat[] = [dep7Export]
