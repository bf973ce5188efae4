/**
 * The fax API, shaped like Fax.Plus's v3 so a client can switch to us: upload files, put
 * faxes in the outbox, change or cancel them before they go, then follow each fax per recipient.
 * Every route needs a bearer token; `{user}` is the token's user or `self`, anything else is a
 * 404 (another user's account does not exist as far as a caller can tell). Submissions are limited
 * per account (rateLimits.submissions: 429 with Retry-After), and recipients on blocked dialling
 * prefixes or premium-rate numbers are refused (400 blocked_number).
 */
import multipart from '@fastify/multipart';
import { MAX_SUBJECT_LENGTH } from '@faxnotify/contracts';
import { rateLimitHook, requireUser, tokenOf, userOf, type RateLimiter, type VerifiedToken } from '@faxnotify/kit';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { TransmitterConfig } from './config';
import { faxFile, type FaxFileOptions } from './fax-file';
import { FileGoneError, type CoverPageSetting, type EntryInput, type Outbox, type OutboxEntryView } from './outbox';
import { blockedNumber, normalizeNumber } from './numbers';
import { namedFormat, type FileStore } from './uploads';

/** The fax.submitted event carries at most this many files, whatever the configuration says. */
const EVENT_MAX_FILES = 10;
/** Owner ids travel in events, where they must be plain identifiers. */
const OWNER_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

export interface ApiOptions {
  outbox: Outbox;
  files: FileStore;
  config: Pick<TransmitterConfig, 'auth' | 'limits' | 'dial' | 'retry' | 'files' | 'rateLimits'>;
  /** Counts submissions per account against rateLimits.submissions, in the transmitter's database. */
  limiter: RateLimiter;
  /** Called after an entry was created or changed, so the scheduler looks at once. */
  changed: () => void;
  /** How a sent fax's file is made again (GET …/faxes/:faxId/file). */
  faxFile: FaxFileOptions;
}

/** A 4xx answer with a machine-readable code and a sentence for people. */
class RequestProblem extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    description: string,
  ) {
    super(description);
  }
}

const problem = (statusCode: number, code: string, description: string): RequestProblem => new RequestProblem(statusCode, code, description);

/** The JSON answers of the API, as a client reads them; an entry and a fax are the outbox's views (OutboxEntryView, FaxView). */
export interface UploadedView {
  /** What a submission names the file by. */
  path: string;
}
export interface CreatedView {
  id: string;
}
export interface OutboxListView {
  records: OutboxEntryView[];
}
/** Any refused request: a machine-readable code and a sentence. */
export interface ErrorView {
  error: string;
  description: string;
}

export function registerFaxApi(app: FastifyInstance, options: ApiOptions): void {
  const { outbox, files, config } = options;
  const maxFiles = Math.min(config.limits.maxFiles, EVENT_MAX_FILES);
  const days = (n: number): string => `${n} day${n === 1 ? '' : 's'}`;
  const fileGone = (error: unknown): never => {
    if (error instanceof FileGoneError) throw problem(400, 'file_not_found', `no uploaded file at ${JSON.stringify(error.path.slice(0, 100))}: ${gone}`);
    throw error;
  };
  const gone =
    `this account never uploaded it, or it was deleted (uploads no fax uses are kept ${days(config.files.unusedDays)}, ` +
    `files of done faxes ${days(config.files.keepDays)}); upload it again`;

  app.register(async (api) => {
    await api.register(multipart, { limits: { fileSize: config.limits.maxBytes, files: 1, fields: 10, parts: 12 }, throwFileSizeLimit: false });
    api.addHook('onRequest', requireUser({ secret: config.auth.jwtSecret, audience: config.auth.audience }));
    api.setErrorHandler((error: FastifyError, _request, reply) => {
      if (error instanceof RequestProblem) return reply.code(error.statusCode).send({ error: error.code, description: error.message } satisfies ErrorView);
      const status = error.statusCode ?? 500;
      if (status >= 500) {
        reply.log.error({ err: error.message }, 'request failed');
        return reply.code(500).send({ error: 'internal_error', description: 'the transmitter could not handle the request' } satisfies ErrorView);
      }
      return reply.code(status).send({ error: status === 413 ? 'request_too_large' : 'invalid_request', description: error.message } satisfies ErrorView);
    });

    /** The account the path names, which must be the caller's own. */
    const owner = (request: FastifyRequest<{ Params: { user: string } }>): string => {
      const userId = userOf(request);
      const named = request.params.user;
      if (named !== 'self' && named !== userId) throw problem(404, 'not_found', 'no such account');
      return userId;
    };

    api.post<{ Params: { user: string }; Querystring: { format?: string } }>('/v3/accounts/:user/files', async (request, reply) => {
      const ownerId = owner(request);
      const named = request.query.format;
      const format = named === undefined || named === '' ? null : namedFormat(String(named));
      if (named !== undefined && named !== '' && format === null)
        throw problem(
          400,
          'failed_mimetype_not_supported',
          `format must be one of pdf, tiff, doc, docx, txt, rtf, jpg, jpeg, png, xls, xlsx, not ${JSON.stringify(String(named).slice(0, 20))}`,
        );
      if (!request.isMultipart()) throw problem(400, 'invalid_request', 'send the file as multipart/form-data in the field fax_file');
      const part = await request.file();
      if (!part) throw problem(400, 'invalid_request', 'no file: send it in the multipart field fax_file');
      if (part.fieldname !== 'fax_file') {
        part.file.resume();
        throw problem(400, 'invalid_request', `the file must be in the multipart field fax_file, not ${JSON.stringify(part.fieldname.slice(0, 40))}`);
      }
      const saved = await files.save(ownerId, part.filename, part.file, () => part.file.truncated, format);
      if (!saved.ok) throw problem(saved.error === 'file_too_large' ? 413 : 400, saved.error, saved.description);
      return reply.code(200).send({ path: saved.path } satisfies UploadedView);
    });

    const submissionLimit = rateLimitHook({
      limiter: options.limiter,
      rule: { name: 'fax-submissions', what: 'fax submissions', per: 'account', ...config.rateLimits.submissions },
      key: userOf,
      // The API's errors describe themselves in `description`; the 429 does too.
      extend: (body) => ({ description: body.message }),
    });

    api.post<{ Params: { user: string }; Body: unknown }>('/v3/accounts/:user/outbox', { preHandler: submissionLimit }, async (request, reply) => {
      const ownerId = owner(request);
      if (!OWNER_ID.test(ownerId)) throw problem(400, 'invalid_request', 'this account id cannot be used for faxes (letters, digits and . _ : @ - only)');
      const input = await readEntry(request.body, ownerId, false, tokenOf(request));
      const id = await outbox.createEntry(ownerId, input as EntryInput).catch(fileGone);
      options.changed();
      return reply.code(201).send({ id } satisfies CreatedView);
    });

    api.get<{ Params: { user: string } }>(
      '/v3/accounts/:user/outbox',
      async (request) => ({ records: await outbox.listEntries(owner(request)) }) satisfies OutboxListView,
    );

    api.get<{ Params: { user: string; id: string } }>('/v3/accounts/:user/outbox/:id', async (request) => {
      const entry = await outbox.getEntry(owner(request), request.params.id);
      if (!entry) throw problem(404, 'not_found', 'no such outbox entry');
      return entry;
    });

    api.put<{ Params: { user: string; id: string }; Body: unknown }>('/v3/accounts/:user/outbox/:id', async (request) => {
      const ownerId = owner(request);
      const changes = await readEntry(request.body, ownerId, true, tokenOf(request));
      const outcome = await outbox.updateEntry(ownerId, request.params.id, changes).catch(fileGone);
      if (!outcome.ok) throw unchangeable(outcome.error);
      options.changed();
      return outcome.value;
    });

    api.delete<{ Params: { user: string; id: string } }>('/v3/accounts/:user/outbox/:id', async (request, reply) => {
      const outcome = await outbox.cancelEntry(owner(request), request.params.id);
      if (!outcome.ok) throw unchangeable(outcome.error);
      return reply.code(204).send();
    });

    api.get<{ Params: { user: string; faxId: string } }>('/v3/accounts/:user/faxes/:faxId', async (request) => {
      const fax = await outbox.getFax(owner(request), request.params.faxId);
      if (!fax) throw problem(404, 'not_found', 'no such fax');
      return fax;
    });

    api.get<{ Params: { user: string; faxId: string }; Querystring: { format?: string } }>('/v3/accounts/:user/faxes/:faxId/file', async (request, reply) => {
      const ownerId = owner(request);
      const named = String(request.query.format ?? 'pdf').toLowerCase();
      const format = named === 'pdf' ? 'pdf' : named === 'tiff' || named === 'tif' ? 'tiff' : null;
      if (!format) throw problem(400, 'invalid_request', `format must be pdf or tiff, not ${JSON.stringify(named.slice(0, 20))}`);
      const outcome = await faxFile(options.faxFile, ownerId, request.params.faxId, format);
      if (!outcome.ok) throw problem(outcome.statusCode, outcome.error, outcome.description);
      return reply
        .header('content-type', outcome.contentType)
        .header('content-disposition', `attachment; filename="${outcome.fileName}"`)
        .header('cache-control', 'private, no-store')
        .send(outcome.body);
    });
  });

  const unchangeable = (error: 'not_found' | 'already_sent'): RequestProblem =>
    error === 'not_found'
      ? problem(404, 'not_found', 'no such outbox entry')
      : problem(409, 'already_sent', 'the fax is already being sent: follow it under its fax id; it can no longer be changed or cancelled');

  /** Checks a submission (or, with `partial`, a change) and returns it normalised; throws the first problem found. */
  async function readEntry(body: unknown, ownerId: string, partial: boolean, token: VerifiedToken): Promise<Partial<EntryInput>> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw problem(400, 'invalid_request', 'the body must be a JSON object');
    const b = body as Record<string, unknown>;
    const out: Partial<EntryInput> = {};

    if (b.to !== undefined || !partial) {
      const to = typeof b.to === 'string' ? [b.to] : b.to;
      if (!Array.isArray(to) || to.length === 0) throw problem(400, 'invalid_request', 'to must list at least one fax number');
      if (to.length > config.limits.maxRecipients) throw problem(400, 'too_many_recipients', `at most ${config.limits.maxRecipients} recipients per fax`);
      const numbers: string[] = [];
      for (const raw of to) {
        const checked = normalizeNumber(raw, config.dial.region);
        if (!checked.ok)
          throw problem(400, 'failed_invalid_number_format', `${JSON.stringify(String(raw).slice(0, 64))} is not a valid fax number: ${checked.reason}`);
        const blocked = blockedNumber(checked.e164, config.dial);
        if (blocked) throw problem(400, 'blocked_number', blocked);
        if (!numbers.includes(checked.e164)) numbers.push(checked.e164);
      }
      out.to = numbers;
    }

    if (b.files !== undefined || !partial) {
      if (!Array.isArray(b.files) || b.files.length === 0) throw problem(400, 'invalid_request', 'files must list at least one uploaded file path');
      if (b.files.length > maxFiles) throw problem(400, 'too_many_files', `at most ${maxFiles} files per fax, got ${b.files.length}`);
      const found: EntryInput['files'] = [];
      for (const path of b.files) {
        const file = typeof path === 'string' ? await files.byPath(ownerId, path) : null;
        if (!file) throw problem(400, 'file_not_found', `no uploaded file at ${JSON.stringify(String(path).slice(0, 100))}: ${gone}`);
        found.push({ fileId: file.id, path: path as string, name: file.name, bytes: file.bytes });
      }
      const total = found.reduce((sum, f) => sum + f.bytes, 0);
      if (total > config.limits.maxBytes)
        throw problem(413, 'files_too_large', `the files come to ${total} bytes; at most ${config.limits.maxBytes} bytes per fax`);
      out.files = found;
    }

    if (b.from !== undefined && b.from !== null && b.from !== '') {
      const checked = normalizeNumber(b.from, config.dial.region);
      if (!checked.ok) throw problem(400, 'failed_invalid_number_format', `from: ${checked.reason}`);
      out.from = checked.e164;
    } else if (!partial || b.from !== undefined) {
      out.from = null;
    }

    if (b.comment !== undefined || !partial) {
      const comment = b.comment ?? {};
      if (typeof comment !== 'object' || comment === null) throw problem(400, 'invalid_request', 'comment must be an object with text');
      const text = (comment as { text?: unknown }).text ?? '';
      if (typeof text !== 'string') throw problem(400, 'invalid_request', 'comment.text must be a string');
      // The subject comes from the sender and goes into notices: bounded here, escaped by every channel.
      out.subject = text.slice(0, MAX_SUBJECT_LENGTH);
    }

    if (b.send_time !== undefined || !partial) {
      out.sendAt = b.send_time === undefined || b.send_time === null || b.send_time === '' ? null : parseSendTime(b.send_time);
    }

    if (b.retry !== undefined || !partial) {
      const retry = b.retry ?? {};
      if (typeof retry !== 'object' || retry === null) throw problem(400, 'invalid_request', 'retry must be an object with count and delay');
      const { count = config.retry.defaultCount, delay = 0 } = retry as { count?: unknown; delay?: unknown };
      if (!Number.isInteger(count) || (count as number) < 0 || (count as number) > 3) throw problem(400, 'invalid_request', 'retry.count must be 0, 1, 2 or 3');
      if (!Number.isInteger(delay) || (delay as number) < 0 || (delay as number) > 1440)
        throw problem(400, 'invalid_request', 'retry.delay must be whole minutes from 0 to 1440 (0: the transmitter waits by cause)');
      out.retry = { count: count as number, delayMinutes: delay as number };
    }

    if (b.cover_page !== undefined || !partial) out.cover = readCoverPage(b.cover_page, token);
    return out;
  }
}

const MAX_COVER_NAME = 100;

const isTimeZone = (name: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
};

const isLocale = (name: string): boolean => {
  try {
    return Intl.getCanonicalLocales(name).length === 1;
  } catch {
    return false;
  }
};

/**
 * The cover page of a submission: absent, null or `enabled: false` for none; else names, subject,
 * and the date's language and time zone — the body's, else the token's `locale` and `tz` claims
 * (sign-in takes them from the provider's `locale` and `zoneinfo`), else en and UTC.
 */
export function readCoverPage(value: unknown, token: Pick<VerifiedToken, 'locale' | 'tz'>): CoverPageSetting | null {
  if (value === undefined || value === null || value === false) return null;
  if (value === true) value = {};
  if (typeof value !== 'object' || Array.isArray(value)) throw problem(400, 'invalid_request', 'cover_page must be an object such as {"enabled": true}');
  const c = value as Record<string, unknown>;
  if (c.enabled !== undefined && typeof c.enabled !== 'boolean') throw problem(400, 'invalid_request', 'cover_page.enabled must be true or false');
  if (c.enabled === false) return null;
  const text = (name: string, max: number): string | undefined => {
    const field = c[name];
    if (field === undefined || field === null || field === '') return undefined;
    if (typeof field !== 'string') throw problem(400, 'invalid_request', `cover_page.${name} must be a string`);
    if (field.length > max) throw problem(400, 'invalid_request', `cover_page.${name} is longer than ${max} characters`);
    return field;
  };
  const locale = text('locale', 35) ?? (token.locale && isLocale(token.locale) ? token.locale : 'en');
  if (!isLocale(locale)) throw problem(400, 'invalid_request', `cover_page.locale ${JSON.stringify(locale)} is not a language tag such as en, ru or it-IT`);
  const timeZone = text('time_zone', 64) ?? (token.tz && isTimeZone(token.tz) ? token.tz : 'UTC');
  if (!isTimeZone(timeZone)) throw problem(400, 'invalid_request', `cover_page.time_zone ${JSON.stringify(timeZone)} is not a time zone such as Europe/Rome`);
  const toName = text('to_name', MAX_COVER_NAME);
  const fromName = text('from_name', MAX_COVER_NAME);
  const subject = text('subject', MAX_SUBJECT_LENGTH);
  return { ...(toName ? { toName } : {}), ...(fromName ? { fromName } : {}), ...(subject ? { subject } : {}), locale, timeZone };
}

/** Fax.Plus writes "2026-11-22 14:30:00 +0000"; ISO 8601 is accepted too. */
export function parseSendTime(value: unknown): Date {
  if (typeof value !== 'string') throw problem(400, 'invalid_request', 'send_time must be a date and time');
  const faxPlus = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}(?::\d{2})?) ?([+-]\d{2}):?(\d{2})$/.exec(value.trim());
  const text = faxPlus ? `${faxPlus[1]}T${faxPlus[2]}${faxPlus[3]}:${faxPlus[4]}` : value.trim();
  const time = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(time.getTime()))
    throw problem(400, 'invalid_request', 'send_time must look like "2026-11-22 14:30:00 +0000" or an ISO 8601 time with its offset');
  return time;
}
