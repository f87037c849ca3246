import type { ExportLogMessage, TssExportContent } from '../export/index.ts'
import type { LogSelection, TssRecord } from './model.ts'
import type { TssService } from './tss-service.ts'

const INFO = { description: 'fiscalbox software TSS', manufacturer: 'fiscalbox', version: '0.1.0' }

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
    info: INFO,
    certificates: [
      { der: Buffer.from(tss.certificate, 'base64') },
      { der: byName('sub') },
      { der: byName('root') },
    ],
    logMessages: logMessages(),
  }
}
