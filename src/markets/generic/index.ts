import { SignatureFormat, v2Code } from '../../core/case-codes.ts'
import { formatDecimal } from '../../core/money.ts'
import type { Receipt } from '../../core/receipt.ts'
import type { Market, MarketOutcome, SigningContext } from '../../core/market.ts'
import { signedPart } from './qr-payload.ts'

/** ftSignatureType low part for the generic receipt signature (category normal, number 1). */
const RECEIPT_SIGNATURE = 0x1n

/**
 * For countries without a fiscal law (0x4555 "EU") and every country that has no plug of its own yet:
 * each receipt is signed in-process with the queue's P-256 key over a payload that chains to the
 * previous receipt, and the signed payload is returned as a QR code.
 */
export const genericMarket: Market = {
  name: 'generic',
  validate(_receipt: Receipt): void {},
  async seal(context: SigningContext, receipt: Receipt): Promise<MarketOutcome> {
    const signed = signedPart({
      queueId: context.queueId,
      receiptNumber: context.receiptNumber,
      moment: context.moment.toISOString(),
      total: formatDecimal(receipt.total),
      previousHash: context.previousHash,
    })
    const signature = context.signer.sign(signed).toString('base64url')
    return {
      signatures: [
        {
          ftSignatureFormat: SignatureFormat.QrCode,
          ftSignatureType: v2Code(context.countryCode, RECEIPT_SIGNATURE),
          Caption: 'fiscalbox receipt signature',
          Data: `${signed}_${signature}`,
        },
      ],
    }
  },
}
