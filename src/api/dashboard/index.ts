import { mkdtempSync } from 'node:fs'
import { createReadStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import cookie from '@fastify/cookie'
import csrf from '@fastify/csrf-protection'
import formbody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Eta } from 'eta'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { type Static, Type } from 'typebox'
import { CERTIFICATE_USES } from '../../core/certificates/bundle.ts'
import type { Imported, ImportRequest } from '../../core/certificates/certificates.ts'
import type { Session } from '../../core/dashboard/operators.ts'
import { EXPIRY_WARNING_DAYS } from '../../core/credentials.ts'
import { ErrorCode, FiscalError, invalid } from '../../core/errors.ts'
import { transactionStatuses } from '../../core/v1/model.ts'
import { batchWindows } from '../../markets/index.ts'
import { renderHtml } from '../../receipts/html.ts'
import { renderPdf } from '../../receipts/pdf.ts'
import type { Runtime } from '../../runtime.ts'
import { CERTIFICATE_LIMITS, importRequestOf } from '../certificate-input.ts'
import { fromFastifyError, statusOf } from '../errors.ts'
import { cashboxStatus } from './cashbox-status.ts'
import { barChart } from './charts.ts'
import { storedCertificateRows } from './certificate-rows.ts'
import { credentialRows } from './credential-rows.ts'
import { ExportRuns } from './export-runs.ts'
import { exportFormatById } from '../../cli/export-formats.ts'

export interface DashboardOptions {
  /** Where exports started from the dashboard are written; absent: a fresh temporary folder. */
  exportsDir?: string
  /** The Secure attribute of its cookies: `auto` for HTTPS requests only (behind a TLS proxy: `always`). */
  secureCookies?: 'auto' | 'always' | 'never'
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in operator on /dashboard pages (undefined on the sign-in page). */
    operator?: Session
  }
}

const SESSION_COOKIE = 'fiscalbox_session'
const PAGE = 50

/** The navigation, one place: a page is one more entry. */
const NAV = [
  { href: '/dashboard/cashboxes', label: 'Cash boxes' },
  { href: '/dashboard/exports', label: 'Exports' },
  { href: '/dashboard/outbox', label: 'Outbox' },
  { href: '/dashboard/locations', label: 'Locations' },
  { href: '/dashboard/transactions', label: 'Transactions' },
  { href: '/dashboard/certificates', label: 'Certificates' },
]

const CashboxParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
const ReceiptParams = Type.Object({
  id: Type.String({ maxLength: 64 }),
  item: Type.String({ maxLength: 64 }),
})
const IsoDate = Type.String({ pattern: '^(\\d{4}-\\d{2}-\\d{2}([T ][0-9:.]+Z?)?)?$', maxLength: 40 })
const JournalQuery = Type.Object({
  reference: Type.Optional(Type.String({ maxLength: 200 })),
  from: Type.Optional(IsoDate),
  to: Type.Optional(IsoDate),
  page: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,5}$' })),
})
const PageQuery = Type.Object({ page: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,5}$' })) })

const TRANSACTION_STATUSES = transactionStatuses(batchWindows)

const CertificateUse = Type.Enum([...CERTIFICATE_USES])
/** The import and replace forms: the file read by the page's script into `pkcs12` (base64) or `pem`. */
const CertificateForm = Type.Object({
  pkcs12: Type.Optional(Type.String({ maxLength: CERTIFICATE_LIMITS.text })),
  pem: Type.Optional(Type.String({ maxLength: CERTIFICATE_LIMITS.text })),
  password: Type.Optional(Type.String({ maxLength: CERTIFICATE_LIMITS.password })),
  name: Type.Optional(Type.String({ maxLength: CERTIFICATE_LIMITS.name })),
  // One ticked box arrives as a string, two as an array.
  uses: Type.Optional(Type.Union([CertificateUse, Type.Array(CertificateUse, { maxItems: 2 })])),
  _csrf: Type.Optional(Type.String()),
})
/**
 * A form's body: the largest file the form takes (CERTIFICATE_LIMITS.text base64 characters) with the
 * percent-encoding of its `+` and `/` and the other fields; a larger one is answered 413 before it is read.
 */
const CERTIFICATE_FORM_LIMIT = 512 * 1024
const CertificateOutcome = Type.Object({
  certificate: Type.Optional(Type.String({ maxLength: 64 })),
  outcome: Type.Optional(Type.Enum(['imported', 'stored', 'replaced'])),
})

/** The files the pages link to, by name: nothing else under /dashboard/static is served. */
const STATIC_FILES: Record<string, string> = {
  'dashboard.css': 'text/css; charset=utf-8',
  'certificate-import.js': 'text/javascript; charset=utf-8',
}

const pageOf = (query: { page?: string | undefined }) => Number(query.page ?? 1)
const blankToUndefined = (text: string | undefined) => (text?.trim() ? text.trim() : undefined)

/** A date field's value as the start (or end) of that day in UTC when it has no time. */
function momentOf(text: string | undefined, end: boolean): string | undefined {
  const value = blankToUndefined(text)
  if (!value) return undefined
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T${end ? '23:59:59.999' : '00:00:00.000'}Z`
  return new Date(value.endsWith('Z') ? value : `${value}Z`).toISOString()
}

const ageText = (ms: number | null): string => {
  if (ms === null) return 'none due'
  const minutes = Math.floor(ms / 60_000)
  return minutes < 1 ? 'under a minute' : minutes < 120 ? `${minutes} min` : `${Math.floor(minutes / 60)} h`
}

/**
 * The operators' dashboard: server-rendered pages (eta) behind a session cookie, every form guarded by a
 * CSRF token, every read scoped to the operator's account (docs/dashboard.md).
 */
export function dashboard(runtime: Runtime, options: DashboardOptions = {}): FastifyPluginAsyncTypebox {
  return async (app) => {
    const secure: boolean | 'auto' =
      options.secureCookies === 'always' ? true : options.secureCookies === 'never' ? false : 'auto'
    const cookieOptions = { path: '/dashboard', httpOnly: true, sameSite: 'strict' as const, secure }
    await app.register(cookie)
    await app.register(formbody)
    await app.register(csrf, { sessionPlugin: '@fastify/cookie', cookieOpts: cookieOptions })
    const eta = new Eta({ views: join(import.meta.dirname, 'views'), cache: true })
    const exports = new ExportRuns(
      runtime,
      options.exportsDir ?? mkdtempSync(join(tmpdir(), 'fiscalbox-dashboard-exports-')),
    )

    const page = (
      reply: FastifyReply,
      request: FastifyRequest,
      view: string,
      data: Record<string, unknown>,
    ) =>
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'private, no-store')
        .header('x-content-type-options', 'nosniff')
        .header('x-frame-options', 'DENY')
        .header(
          'content-security-policy',
          // Scripts only on a page that names its own file (the certificate import reads the chosen file).
          `default-src 'none'; ${data.script ? "script-src 'self'; " : ''}style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
        )
        .send(
          eta.render(view, {
            ...data,
            nav: NAV,
            path: request.url.split('?')[0],
            operator: request.operator,
            // A request refused before the cookies are read (a body over its limit, answered 413 in the
            // first hook) has no session either: its error page shows no form that would need a token.
            csrf: request.cookies ? reply.generateCsrf() : null,
          }),
        )

    app.setErrorHandler((error: FastifyError, request, reply) => {
      const forged = error.code?.startsWith('FST_CSRF')
      const fiscal = forged
        ? new FiscalError(
            ErrorCode.Forbidden,
            'the form is missing its security token or it expired: reload the page and send it again',
          )
        : fromFastifyError(error, request.routeOptions.url)
      const status = statusOf(fiscal.code)
      if (status >= 500) request.log.error({ err: error }, 'dashboard request failed')
      if (fiscal.code === ErrorCode.RateLimited)
        reply.header('retry-after', reply.getHeader('retry-after') ?? '60')
      return page(reply.status(status), request, 'error', {
        title: `Error ${status}`,
        status,
        message: fiscal.message,
      })
    })

    app.addHook('onRequest', async (request, reply) => {
      const open = request.url === '/dashboard/login' || request.url.startsWith('/dashboard/static/')
      request.operator = await runtime.operators.resolve(request.cookies[SESSION_COOKIE])
      if (!request.operator && !open) return reply.redirect('/dashboard/login', 303)
    })

    const session = (request: FastifyRequest): Session => {
      if (!request.operator) throw new FiscalError(ErrorCode.Unauthorized, 'sign in first')
      return request.operator
    }
    // After the body is parsed (the token is a form field), before it is validated (no token: 403, not 400).
    const guarded = { preValidation: app.csrfProtection }

    app.get(
      '/dashboard/static/:file',
      { schema: { hide: true, params: Type.Object({ file: Type.String({ maxLength: 64 }) }) } },
      (request, reply) => {
        const type = Object.hasOwn(STATIC_FILES, request.params.file)
          ? STATIC_FILES[request.params.file]
          : undefined
        if (!type) throw new FiscalError(ErrorCode.NotFound, 'no such file')
        return reply
          .type(type)
          .header('cache-control', 'public, max-age=3600')
          .header('x-content-type-options', 'nosniff')
          .send(createReadStream(join(import.meta.dirname, 'views', request.params.file)))
      },
    )

    app.get('/dashboard', { schema: { hide: true } }, (_request, reply) =>
      reply.redirect('/dashboard/cashboxes', 303),
    )

    app.get('/dashboard/login', { schema: { hide: true } }, (request, reply) =>
      request.operator
        ? reply.redirect('/dashboard/cashboxes', 303)
        : page(reply, request, 'login', { title: 'Sign in', email: '', message: null }),
    )

    app.post(
      '/dashboard/login',
      {
        ...guarded,
        schema: {
          hide: true,
          body: Type.Object({
            email: Type.String({ maxLength: 320 }),
            password: Type.String({ maxLength: 1024 }),
            _csrf: Type.Optional(Type.String()),
          }),
        },
      },
      async (request, reply) => {
        const { email, password } = request.body
        try {
          const signedIn = await app.failedLogins.guard(request, reply, 'password', () =>
            runtime.operators.signIn(email, password),
          )
          reply.setCookie(SESSION_COOKIE, await runtime.operators.issueToken(signedIn), cookieOptions)
          return reply.redirect('/dashboard/cashboxes', 303)
        } catch (error) {
          if (!(error instanceof FiscalError)) throw error
          const status = statusOf(error.code)
          return page(reply.status(status), request, 'login', {
            title: 'Sign in',
            email,
            message:
              status === 429
                ? error.message
                : 'The e-mail or the password is wrong. Check both and try again.',
          })
        }
      },
    )

    app.post('/dashboard/logout', { ...guarded, schema: { hide: true } }, (_request, reply) =>
      reply.clearCookie(SESSION_COOKIE, cookieOptions).redirect('/dashboard/login', 303),
    )

    app.get(
      '/dashboard/cashboxes',
      {
        schema: {
          hide: true,
          querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })) }),
        },
      },
      async (request, reply) => {
        const operator = session(request)
        const q = blankToUndefined(request.query.q)?.toLowerCase()
        const all = await runtime.dashboard.cashboxes(operator)
        const shown = q ? all.filter((c) => `${c.id} ${c.label} ${c.country}`.toLowerCase().includes(q)) : all
        const perHour = await runtime.dashboard.receiptsPerHour(operator)
        const credentials = await runtime.credentials.ofAccount(operator.accountId)
        return page(reply, request, 'cashboxes', {
          title: 'Cash boxes',
          expiring: runtime.credentials.expiring(credentials).length,
          warningDays: EXPIRY_WARNING_DAYS,
          q: q ?? '',
          total: all.length,
          cashboxes: shown.map((cashbox) => ({
            ...cashbox,
            status: cashboxStatus(cashbox, runtime.marketFor),
          })),
          chart: barChart('receipts-per-hour', 'Receipts per hour, last 24 hours (UTC)', perHour),
          perHour,
        })
      },
    )

    app.get(
      '/dashboard/cashboxes/:id',
      { schema: { hide: true, params: CashboxParams, querystring: JournalQuery } },
      async (request, reply) => {
        const operator = session(request)
        const current = pageOf(request.query)
        const filter = {
          reference: blankToUndefined(request.query.reference),
          from: momentOf(request.query.from, false),
          to: momentOf(request.query.to, true),
        }
        const journal = await runtime.dashboard.journal(operator, request.params.id, {
          ...filter,
          limit: PAGE,
          offset: (current - 1) * PAGE,
        })
        const query = new URLSearchParams(
          Object.entries({
            reference: request.query.reference ?? '',
            from: request.query.from ?? '',
            to: request.query.to ?? '',
          }).filter(([, v]) => v !== ''),
        )
        return page(reply, request, 'journal', {
          title: `Journal of ${journal.cashbox.label}`,
          cashbox: journal.cashbox,
          status: cashboxStatus(journal.cashbox, runtime.marketFor),
          rows: journal.rows,
          total: journal.total,
          page: current,
          pages: Math.max(1, Math.ceil(journal.total / PAGE)),
          query: query.toString(),
          values: {
            reference: request.query.reference ?? '',
            from: request.query.from ?? '',
            to: request.query.to ?? '',
          },
        })
      },
    )

    const journaled = async (request: FastifyRequest, params: { id: string; item: string }) => {
      const summary = await runtime.dashboard.cashbox(session(request), params.id)
      const cashbox = await runtime.cashboxes.find(summary.id)
      if (!cashbox) throw new FiscalError(ErrorCode.NotFound, 'no such cash box')
      return runtime.receipts.journaledDocument(cashbox, params.item)
    }

    app.get(
      '/dashboard/cashboxes/:id/receipts/:item',
      { schema: { hide: true, params: ReceiptParams } },
      async (request, reply) => {
        const { document } = await journaled(request, request.params)
        const base = `/dashboard/cashboxes/${request.params.id}/receipts/${request.params.item}`
        return reply
          .type('text/html; charset=utf-8')
          .header('cache-control', 'private, no-store')
          .header(
            'content-security-policy',
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'",
          )
          .send(renderHtml(document, { pdf: `${base}/receipt.pdf`, text: `${base}/receipt.pdf` }))
      },
    )

    app.get(
      '/dashboard/cashboxes/:id/receipts/:item/receipt.pdf',
      { schema: { hide: true, params: ReceiptParams } },
      async (request, reply) => {
        const { document, moment } = await journaled(request, request.params)
        return reply
          .type('application/pdf')
          .header('cache-control', 'private, no-store')
          .send(await renderPdf(document, moment))
      },
    )

    app.get(
      '/dashboard/cashboxes/:id/closings',
      { schema: { hide: true, params: CashboxParams } },
      async (request, reply) => {
        const { cashbox, closings } = await runtime.dashboard.closings(session(request), request.params.id)
        return page(reply, request, 'closings', {
          title: `Closings of ${cashbox.label}`,
          cashbox,
          closings: closings.map((closing) => ({ ...closing, totals: JSON.parse(closing.data) as unknown })),
        })
      },
    )

    app.get(
      '/dashboard/exports',
      {
        schema: {
          hide: true,
          querystring: Type.Object({ cashbox: Type.Optional(Type.String({ maxLength: 64 })) }),
        },
      },
      async (request, reply) => {
        const operator = session(request)
        const cashboxes = await runtime.dashboard.cashboxes(operator)
        const chosen = blankToUndefined(request.query.cashbox)
        const summary = chosen ? await runtime.dashboard.cashbox(operator, chosen) : undefined
        return page(reply, request, 'exports', {
          title: 'Exports',
          runs: await exports.list(operator),
          cashboxes,
          chosen: summary ?? null,
          formats: summary ? (await exports.formats(summary)).formats : [],
        })
      },
    )

    app.post(
      '/dashboard/exports',
      {
        ...guarded,
        schema: {
          hide: true,
          body: Type.Object({
            cashboxId: Type.String({ maxLength: 64 }),
            format: Type.String({ maxLength: 64 }),
            from: Type.Optional(Type.String({ maxLength: 40 })),
            to: Type.Optional(Type.String({ maxLength: 40 })),
            _csrf: Type.Optional(Type.String()),
          }),
        },
      },
      async (request, reply) => {
        const operator = session(request)
        const cashbox = await runtime.dashboard.cashbox(operator, request.body.cashboxId)
        const run = await exports.start(operator, cashbox, request.body.format, {
          from: blankToUndefined(request.body.from),
          to: blankToUndefined(request.body.to),
        })
        return reply.redirect(`/dashboard/exports/${run.id}`, 303)
      },
    )

    app.get(
      '/dashboard/exports/:id',
      { schema: { hide: true, params: CashboxParams } },
      async (request, reply) => {
        const run = await exports.find(session(request), request.params.id)
        return page(reply, request, 'export', {
          title: `${run.formatLabel} of ${run.cashboxLabel}`,
          run,
          refresh: run.status === 'exporting' || run.status === 'verifying',
        })
      },
    )

    app.get(
      '/dashboard/exports/:id/download',
      {
        schema: {
          hide: true,
          params: CashboxParams,
          querystring: Type.Object({ part: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })) }),
        },
      },
      async (request, reply) => {
        const run = await exports.find(session(request), request.params.id)
        if (run.status !== 'done')
          throw new FiscalError(
            ErrorCode.Conflict,
            `the export is ${run.status}: download it once it is done`,
          )
        const file = exports.file(run, Number(request.query.part ?? 1))
        if (!file)
          throw new FiscalError(ErrorCode.NotFound, `the export has ${run.files.length} file(s)`, {
            field: 'part',
            reason: `must be 1 to ${run.files.length}`,
          })
        const format = await exportFormatById(run.format)
        const content = createReadStream(file)
        // Opened before the headers go out: a folder this node does not share answers 404, not a cut body.
        await new Promise<void>((resolve, reject) => {
          content.once('open', () => resolve())
          content.once('error', () =>
            reject(
              new FiscalError(
                ErrorCode.NotFound,
                'the export file is not in this node’s exports folder: give every node the same DASHBOARD_EXPORTS_DIR',
              ),
            ),
          )
        })
        return reply
          .type(format?.mediaType ?? 'application/octet-stream')
          .header('cache-control', 'private, no-store')
          .header('content-disposition', `attachment; filename="${basename(file)}"`)
          .send(content)
      },
    )

    app.get('/dashboard/outbox', { schema: { hide: true } }, async (request, reply) => {
      const operator = session(request)
      const outbox = await runtime.dashboard.outbox(operator)
      const depth = await runtime.dashboard.outboxDepth(operator)
      return page(reply, request, 'outbox', {
        title: 'Outbox',
        ...outbox,
        oldestAge: ageText(outbox.oldestDueAgeMs),
        chart: barChart('outbox-depth', 'Open jobs at the end of each hour, last 24 hours (UTC)', depth),
        retried: (request.query as { retried?: string }).retried ?? null,
      })
    })

    app.post(
      '/dashboard/outbox/:id/retry',
      { ...guarded, schema: { hide: true, params: CashboxParams } },
      async (request, reply) => {
        const job = await runtime.v1.jobs.retryDead(
          { accountId: session(request).accountId },
          request.params.id,
        )
        return reply.redirect(`/dashboard/outbox?retried=${job.id}`, 303)
      },
    )

    app.get(
      '/dashboard/locations',
      { schema: { hide: true, querystring: PageQuery } },
      async (request, reply) => {
        const current = pageOf(request.query)
        const { data, total } = await runtime.dashboard.locations(
          session(request),
          PAGE,
          (current - 1) * PAGE,
        )
        return page(reply, request, 'locations', {
          title: 'Locations',
          locations: data,
          total,
          page: current,
          pages: Math.max(1, Math.ceil(total / PAGE)),
        })
      },
    )

    app.get(
      '/dashboard/transactions',
      {
        schema: {
          hide: true,
          querystring: Type.Object({
            page: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,5}$' })),
            status: Type.Optional(Type.Enum(['', ...TRANSACTION_STATUSES])),
          }),
        },
      },
      async (request, reply) => {
        const current = pageOf(request.query)
        const status = request.query.status || undefined
        const { data, total } = await runtime.dashboard.transactionList(session(request), {
          ...(status ? { status } : {}),
          limit: PAGE,
          offset: (current - 1) * PAGE,
        })
        return page(reply, request, 'transactions', {
          title: 'Transactions',
          transactions: data,
          total,
          status: status ?? '',
          statuses: TRANSACTION_STATUSES,
          page: current,
          pages: Math.max(1, Math.ceil(total / PAGE)),
        })
      },
    )

    /** The certificates page; `result` is an import's outcome or refusal, shown above the forms. */
    const certificatesPage = async (
      request: FastifyRequest,
      reply: FastifyReply,
      result: { done?: string; refusal?: { title: string; message: string } },
    ) => {
      const operator = session(request)
      const credentials = await runtime.credentials.ofAccount(operator.accountId)
      const labels = new Map((await runtime.dashboard.cashboxes(operator)).map((c) => [c.id, c.label]))
      const rows = credentialRows(credentials, runtime.credentials.expiring(credentials), labels)
      return page(reply, request, 'certificates', {
        title: 'Certificates and keys',
        rows,
        warnings: rows.filter((r) => r.state === 'expired' || r.state === 'expiring'),
        warningDays: EXPIRY_WARNING_DAYS,
        stored: storedCertificateRows(await runtime.v1.certificates.list(operator.accountId)),
        uses: CERTIFICATE_USES,
        done: result.done ?? null,
        refusal: result.refusal ?? null,
        script: '/dashboard/static/certificate-import.js',
      })
    }

    app.get(
      '/dashboard/certificates',
      { schema: { hide: true, querystring: CertificateOutcome } },
      async (request, reply) => {
        const { certificate: id, outcome } = request.query
        const certificate =
          id && outcome
            ? (await runtime.v1.certificates.list(session(request).accountId)).find(
                (c) => c.certificate.id === id,
              )?.certificate
            : undefined
        const done =
          certificate &&
          {
            imported: `Imported “${certificate.name}”.`,
            stored: `This certificate was already stored, as “${certificate.name}”: nothing changed.`,
            replaced: `Replaced: “${certificate.name}” is now version ${certificate.active.version}, used from the next submission.`,
          }[outcome as 'imported' | 'stored' | 'replaced']
        return certificatesPage(request, reply, done ? { done } : {})
      },
    )

    /**
     * Runs an import or a replacement through the certificate service, as the API and the CLI do. What it
     * refuses (a 4xx) is shown on the page with the empty form: the file, key and password are not sent back.
     */
    const storeCertificate = async (
      request: FastifyRequest,
      reply: FastifyReply,
      body: Static<typeof CertificateForm>,
      action: 'imported' | 'replaced',
      store: (accountId: string, importRequest: ImportRequest) => Promise<Imported>,
    ) => {
      const operator = session(request)
      try {
        if (body.uses === undefined) throw invalid('uses', 'tick at least one use the certificate must allow')
        const { certificate, created } = await store(
          operator.accountId,
          importRequestOf({
            pkcs12: blankToUndefined(body.pkcs12),
            pem: blankToUndefined(body.pem),
            // As typed: spaces may be part of a password, and a PKCS#12 file may have an empty one.
            password: body.password,
            name: blankToUndefined(body.name),
            uses: [body.uses].flat(),
          }),
        )
        const outcome = action === 'replaced' ? action : created ? 'imported' : 'stored'
        return reply.redirect(`/dashboard/certificates?certificate=${certificate.id}&outcome=${outcome}`, 303)
      } catch (error) {
        if (!(error instanceof FiscalError) || statusOf(error.code) >= 500) throw error
        const problem = typeof error.extra?.problem === 'string' ? error.extra.problem : undefined
        return certificatesPage(request, reply.status(statusOf(error.code)), {
          refusal: {
            title: `Not ${action}${problem ? `: ${problem.replaceAll('_', ' ')}` : ''}`,
            message: error.message,
          },
        })
      }
    }

    app.post(
      '/dashboard/certificates',
      { ...guarded, bodyLimit: CERTIFICATE_FORM_LIMIT, schema: { hide: true, body: CertificateForm } },
      (request, reply) =>
        storeCertificate(request, reply, request.body, 'imported', (accountId, importRequest) =>
          runtime.v1.certificates.import(accountId, importRequest),
        ),
    )

    app.post(
      '/dashboard/certificates/:id/replace',
      {
        ...guarded,
        bodyLimit: CERTIFICATE_FORM_LIMIT,
        schema: { hide: true, params: CashboxParams, body: CertificateForm },
      },
      (request, reply) =>
        storeCertificate(request, reply, request.body, 'replaced', async (accountId, importRequest) => ({
          certificate: await runtime.v1.certificates.replace(accountId, request.params.id, importRequest),
          created: false,
        })),
    )
  }
}
