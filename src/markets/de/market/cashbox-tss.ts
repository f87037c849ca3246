import { ErrorCode, FiscalError } from '../../../core/errors.ts'
import type { DeServices } from '../services.ts'

const noTss = () =>
  new FiscalError(
    ErrorCode.MarketNotConfigured,
    'this German cash box has no TSS yet: send its start receipt first',
  )

/** The TSS of a German cash box on /v2/sign, as /de/v1/tss shows it. */
export async function cashboxTssStatus(de: DeServices, queueId: string) {
  const box = await de.market.cashbox(queueId)
  if (!box) throw noTss()
  const status = { tss_id: box.tssId, client_id: box.clientId, client_serial_number: box.clientSerial }
  const service = {
    in_service: box.tssOutOfServiceSince === null,
    out_of_service_since: box.tssOutOfServiceSince,
  }
  if (await de.remote.store.remote(queueId)) {
    const remote = await de.remote.remoteTss(queueId)
    return {
      ...status,
      serial_number: remote.serial_number,
      public_key: remote.public_key,
      signature_algorithm: remote.signature_algorithm,
      signature_counter: Number(remote.signature_counter),
      ...service,
    }
  }
  const tss = await de.tss.getTss({ organizationId: box.organizationId, env: 'LIVE' }, box.tssId)
  return {
    ...status,
    serial_number: tss.serialNumber,
    public_key: tss.publicKey,
    signature_algorithm: tss.algorithm,
    signature_counter: tss.signatureCounter,
    ...service,
  }
}

/**
 * The POS reports its TSS out of service (receipts are then answered without it) or back in service.
 * Reporting an outage twice keeps its first moment: the failure began then, and DSFinV-K shows it so.
 */
export async function reportCashboxTss(de: DeServices, queueId: string, inService: boolean, at: Date) {
  const current = await de.market.cashbox(queueId)
  if (!current) throw noTss()
  if (inService || current.tssOutOfServiceSince === null)
    await de.market.setOutOfService(queueId, inService ? null : at.toISOString())
  return cashboxTssStatus(de, queueId)
}
