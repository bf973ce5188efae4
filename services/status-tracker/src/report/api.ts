import { tokenOf, userOf, type createHttpServer } from '@faxnotify/kit';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { authenticateApi, type AuthOptions } from '../auth';
import { isTimeZone } from '../config';
import { loadFax } from '../folder';
import type { LinkTokens } from '../links';
import { faxScopeOf } from '../offices/scope';
import { pickLocale } from '../pages/strings';
import type { TrackerDatabase } from '../schema';
import { loadFirstPage, reportContent } from './content';
import { confirmationReportPdf } from './pdf';
import { REPORT_STRINGS } from './strings';

type HttpServer = ReturnType<typeof createHttpServer>;

export interface ReportApiOptions {
  db: Kysely<TrackerDatabase>;
  auth: AuthOptions;
  /** Link tokens, when on: a notice link's grant opens its fax's report too. */
  links?: LinkTokens;
  /** Time zone of the times when neither `?tz=` nor the token's `tz` claim names one. */
  defaultTimeZone: string;
  now?: () => Date;
}

/** The fax's aggregate state as the report shows it (in_progress, delivered, partial, failed): the notifier attaches only a final fax's report. */
export const FAX_STATE_HEADER = 'x-faxnotify-fax-state';

/** The path of a fax's confirmation report. */
export const reportPath = (faxId: string): string => `/v1/faxes/${encodeURIComponent(faxId)}/report.pdf`;

/**
 * `GET /v1/faxes/:faxId/report.pdf`: the fax's confirmation report (report/pdf.ts), for whoever may
 * read the fax page: its owner, an office colleague whose scope holds it (offices/scope.ts), a
 * browser holding a notice link's grant for that one fax. Any other fax is 404, as one that does
 * not exist. Language: `?lang=`, else the pages' language cookie, the token's `locale` claim,
 * Accept-Language, English; time zone: `?tz=`, else the token's `tz` claim, else the default.
 */
export function registerReportApi(app: HttpServer, options: ReportApiOptions): void {
  const { db } = options;
  const now = options.now ?? (() => new Date());
  void app.register(async (scope) => {
    scope.addHook('preHandler', authenticateApi(options.auth, options.links));
    scope.get<{ Params: { faxId: string }; Querystring: { lang?: string; tz?: string } }>(
      '/v1/faxes/:faxId/report.pdf',
      { config: { linkGrant: true } },
      async (request, reply) => {
        const record = await loadFax(db, await faxScopeOf(db, userOf(request)), request.params.faxId);
        if (!record) return reply.code(404).send({ error: 'not_found', message: 'no such fax' });
        const claims = viewerClaims(request);
        const locale = pickLocale({
          query: request.query.lang,
          cookie: request.cookies.faxnotify_lang,
          claim: claims.locale,
          acceptLanguage: request.headers['accept-language'],
        });
        const timeZone = [request.query.tz, claims.tz].find((tz) => tz !== undefined && isTimeZone(tz)) ?? options.defaultTimeZone;
        const pdf = await confirmationReportPdf(reportContent(record, await loadFirstPage(db, record.fax.id), { locale, timeZone, now: now() }));
        const name = `${REPORT_STRINGS[locale].fileStem}-${record.fax.id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)}.pdf`;
        return reply
          .header('cache-control', 'private, no-store')
          .header('content-disposition', `inline; filename="${name}"`)
          .header(FAX_STATE_HEADER, record.fax.state)
          .type('application/pdf')
          .send(pdf);
      },
    );
  });
}

/** The token's `locale` and `tz`, when the request came with one (a link grant has none). */
const viewerClaims = (request: FastifyRequest): { locale?: string; tz?: string } => {
  const token: Partial<ReturnType<typeof tokenOf>> | undefined = tokenOf(request);
  return token ?? {};
};
