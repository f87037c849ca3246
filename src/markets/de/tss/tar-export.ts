import type { ExportLogMessage, TssExportContent } from '../export/index.ts'
import type { LogSelection, TssRecord } from './model.ts'
import type { TssService } from './tss-service.ts'

const INFO = { description: 'fiscalbox software TSS', manufacturer: 'fiscalbox', version: '0.1.0' }

const range = (from?: number, to?: number) =>
  from === undefined && to === undefined ? undefined : `${from ?? ''}..${to ?? ''}`

/**
 * info.csv's description. TR-03151 lets an export be filtered (by client, transaction numbers, time,
 * signature counter) and TR-03153 gives the archive no other place for metadata, so a filtered export says
 * here that it is one and how: `fiscalbox software TSS; filtered export; client=POS-1; transactions=2..5`
 * (time in unix seconds; an open end is left empty). A verifier then knows which gaps to expect.
 */
export function exportDescription(selection: LogSelection): string {
  const f = selection.filters
  const single = f.transactionNumber
  const parts = [
    ['client', selection.clientSerial],
    [
      'transactions',
      single !== undefined ? range(single, single) : range(f.startTransactionNumber, f.endTransactionNumber),
    ],
    ['time', range(f.startDate, f.endDate)],
    ['signatures', range(f.startSignatureCounter, f.endSignatureCounter)],
  ].filter(([, value]) => value !== undefined)
  if (parts.length === 0) return INFO.description
  return [INFO.description, 'filtered export', ...parts.map(([key, value]) => `${key}=${value}`)].join('; ')
}

/** What a TAR export of one TSS holds: info.csv, the chain (TSS leaf, sub-CA, root), the selected log messages. */
export async function tarExportContent(
  service: TssService,
  tss: TssRecord,
  selection: LogSelection,
): Promise<TssExportContent> {
  const authorities = await service.certificateAuthorities()
  const byName = (name: 'root' | 'sub') => authorities.find((a) => a.name === name)?.certificate as Buffer
  async function* logMessages(): AsyncGenerator<ExportLogMessage> {
    for await (const log of service.streamLogs(selection)) {
      const common = {
        signatureCounter: log.signatureCounter,
        logTime: { format: 'unixTime' as const, seconds: log.logTime },
        der: log.message,
      }
      if (log.kind === 'transaction')
        yield {
          ...common,
          kind: 'transaction',
          operationType: log.operation as 'StartTransaction',
          transactionNumber: log.transactionNumber ?? 0,
          clientId: log.clientSerial ?? '',
        }
      else if (log.kind === 'system') yield { ...common, kind: 'system', operationType: log.operation }
      else yield { ...common, kind: 'audit' }
    }
  }
  return {
    info: { ...INFO, description: exportDescription(selection) },
    certificates: [
      { der: Buffer.from(tss.certificate, 'base64') },
      { der: byName('sub') },
      { der: byName('root') },
    ],
    logMessages: logMessages(),
  }
}
