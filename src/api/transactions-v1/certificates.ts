import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Static } from 'typebox'
import { Type } from 'typebox'
import type { StoredCertificate } from '../../core/certificates/certificates.ts'
import { ErrorCode, FiscalError } from '../../core/errors.ts'
import type { Caller } from '../../core/v1/accounts.ts'
import type { V1Runtime } from '../../v1-runtime.ts'
import { importRequestOf } from '../certificate-input.ts'
import { CertificateView, IdParams, ImportCertificateBody, problems } from './schemas.ts'

const tags = ['transactions v1: certificates']

/** The certificate as the API shows it: never its private key. */
export function certificateView(
  certificate: StoredCertificate,
  usedBy: string[],
): Static<typeof CertificateView> {
  const v = certificate.active
  return {
    id: certificate.id,
    name: certificate.name,
    version: v.version,
    subject: v.subject,
    issuer: v.issuer,
    serial_number: v.serialNumber,
    not_before: v.notBefore,
    not_after: v.notAfter,
    fingerprint_sha256: v.fingerprint,
    key_usage: v.keyUsage,
    extended_key_usage: v.extendedKeyUsage,
    uses: v.uses,
    used_by: { locations: usedBy },
    created_at: certificate.createdAt,
    replaced_at: v.version > 1 ? v.createdAt : null,
  }
}

/**
 * The stored certificates sign and authenticate the live submissions: a test key (handed to developers,
 * kept in sandboxes) must not be able to swap them, so only a live key changes the store.
 */
function requireLiveKey(caller: Caller): void {
  if (caller.environment !== 'live')
    throw new FiscalError(
      ErrorCode.Forbidden,
      'only a live API key (fsk_live_…) may import, replace or remove certificates; a test key can only list them',
    )
}

/** The account's certificates: import (idempotent), list, show, replace, remove. */
export function certificateRoutes(v1: V1Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/certificates',
      {
        schema: {
          summary:
            'Import a certificate with its private key (PKCS#12 or PEM); the key is never shown again. Live API keys only',
          tags,
          body: ImportCertificateBody,
          response: { 200: CertificateView, 201: CertificateView, ...problems(400, 401, 403, 429) },
        },
        config: { requestName: 'ImportCertificateRequest' },
      },
      async (request, reply) => {
        requireLiveKey(request.caller)
        const accountId = request.caller.account.id
        const { certificate, created } = await v1.certificates.import(
          accountId,
          importRequestOf(request.body),
        )
        const usedBy = await v1.certificates.usedBy(accountId, certificate.id)
        return reply.code(created ? 201 : 200).send(certificateView(certificate, usedBy))
      },
    )
    app.get(
      '/certificates',
      {
        schema: {
          summary: "List the account's certificates with what uses each",
          tags,
          response: { 200: Type.Object({ data: Type.Array(CertificateView) }), ...problems(401, 403, 429) },
        },
      },
      async (request) => ({
        data: (await v1.certificates.list(request.caller.account.id)).map((c) =>
          certificateView(c.certificate, c.usedBy),
        ),
      }),
    )
    app.get(
      '/certificates/:id',
      {
        schema: {
          summary: 'Show a certificate',
          tags,
          params: IdParams,
          response: { 200: CertificateView, ...problems(401, 403, 404, 429) },
        },
      },
      async (request) => {
        const accountId = request.caller.account.id
        const certificate = await v1.certificates.get(accountId, request.params.id)
        return certificateView(certificate, await v1.certificates.usedBy(accountId, certificate.id))
      },
    )
    app.put(
      '/certificates/:id',
      {
        schema: {
          summary:
            'Replace a certificate (e.g. renewed): the new one is used from the next submission, one under way finishes with the old. Live API keys only',
          tags,
          params: IdParams,
          body: ImportCertificateBody,
          response: { 200: CertificateView, ...problems(400, 401, 403, 404, 409, 429) },
        },
        config: { requestName: 'ImportCertificateRequest' },
      },
      async (request) => {
        requireLiveKey(request.caller)
        const accountId = request.caller.account.id
        const certificate = await v1.certificates.replace(
          accountId,
          request.params.id,
          importRequestOf(request.body),
        )
        return certificateView(certificate, await v1.certificates.usedBy(accountId, certificate.id))
      },
    )
    app.delete(
      '/certificates/:id',
      {
        schema: {
          summary: 'Remove a certificate that no location uses. Live API keys only',
          tags,
          params: IdParams,
          response: { 204: Type.Null(), ...problems(401, 403, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        requireLiveKey(request.caller)
        await v1.certificates.remove(request.caller.account.id, request.params.id)
        return reply.code(204).send(null)
      },
    )
  }
}
