import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Webhook signatures (docs/transactions-api-v1.md "Webhooks"): HMAC-SHA256 with the endpoint's `whsec_`
 * secret over "{timestamp}.{body}", timestamp in Unix seconds, sent as
 * `X-Fiscalbox-Signature: t={timestamp},v1={hex}`.
 */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`

export const webhookSignature = (secret: string, timestamp: number, body: string): string =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')

export const signatureHeader = (secret: string, timestamp: number, body: string): string =>
  `t=${timestamp},v1=${webhookSignature(secret, timestamp, body)}`

/** For receivers (and the tests): checks a header against the body, with a tolerance on the timestamp. */
export function verifyWebhook(
  secret: string,
  header: string,
  body: string,
  nowSeconds: number,
  toleranceS = 300,
): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]))
  const timestamp = Number(parts.t)
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceS || !parts.v1) return false
  const expected = Buffer.from(webhookSignature(secret, timestamp, body), 'hex')
  const given = Buffer.from(parts.v1, 'hex')
  return expected.length === given.length && timingSafeEqual(expected, given)
}
