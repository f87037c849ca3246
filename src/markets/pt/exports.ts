import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { invalid } from '../../core/errors.ts'
import type { ExportFormat, ExportPeriod } from '../module.ts'
import { saftSummary, saftText } from './cli/verify-saft.ts'
import { verifySaftPt } from './saft-verifier.ts'
import { ptServicesOf } from './services.ts'

const DATE = /^\d{4}-\d{2}-\d{2}$/

function saftRange({ from = '', to = '' }: ExportPeriod): { from: string; to: string } {
  if (!DATE.test(from)) throw invalid('from', 'must be a date YYYY-MM-DD')
  if (!DATE.test(to) || to < from) throw invalid('to', 'must be a date YYYY-MM-DD, not before from')
  return { from, to }
}

/** The SAF-T (PT) 1.04_01 file of a Portuguese cash box's documents, checked with its public key. */
export const saftExport: ExportFormat = {
  id: 'pt-saft',
  label: 'SAF-T (PT) 1.04_01 (XML)',
  extension: '.xml',
  mediaType: 'application/xml',
  period: { from: 'first day (YYYY-MM-DD, local time)', to: 'last day', required: true },
  checkPeriod: (period) => void saftRange(period),
  async write(runtime, cashbox, period, out, progress) {
    const range = saftRange(period)
    const file = createWriteStream(out)
    let documents = 0
    const chunks = ptServicesOf(runtime.marketFor).saft.chunks(cashbox.id, cashbox.queueId, range, () =>
      progress(++documents),
    )
    for await (const chunk of chunks) if (!file.write(chunk)) await once(file, 'drain')
    file.end()
    await once(file, 'finish')
    return { files: [out], items: documents }
  },
  async verify(runtime, cashbox, files) {
    const { publicKey } = await ptServicesOf(runtime.marketFor).describe(cashbox.id)
    const report = verifySaftPt(saftText(await readFile(files[0] as string)), publicKey)
    return { ok: report.problems.length === 0, summary: saftSummary(report), problems: report.problems }
  },
}

export const portugueseExports: readonly ExportFormat[] = [saftExport]
