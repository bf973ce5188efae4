import type { DeliveryRecipientFinal } from '@faxnotify/contracts';
import { errorMessage, issueToken, type Logger, type TokenIssuerOptions } from '@faxnotify/kit';
import type { NoticeAttachment } from './channels/types';
import type { NotificationSettings } from './settings';

export interface ConfirmationReportsOptions {
  /** The tracker's report URL with `{faxId}` (tracker.reportUrlTemplate); empty: no report is ever fetched. */
  urlTemplate: string;
  timeoutMs: number;
  /** What the notifier signs the owner's short-lived token with: the services' shared auth settings. */
  auth: TokenIssuerOptions;
  logger: Logger;
  /** A report larger than this is left out (a fax of a thousand recipients runs to some hundred KB). */
  maxBytes?: number;
}

/** The tracker's answer header with the fax's aggregate state (status-tracker report/api.ts). */
const FAX_STATE_HEADER = 'x-faxnotify-fax-state';
const MAX_REPORT_BYTES = 5_000_000;
/** Long enough for one request, short enough that a token seen in a log opens nothing for long. */
const TOKEN_SECONDS = 120;

/**
 * The fax confirmation report (PDF) an owner may have attached to the email notices of their faxes
 * (email.attachReport), fetched from the status tracker when a notice is sent. The tracker makes
 * it: the notifier asks with a token of the owner that lasts two minutes, carrying the owner's
 * language and time zone, so it gets exactly the report the owner would open from the fax page.
 *
 * Never on the notice's critical path: a tracker that is down, slow, answers an error or something
 * that is not a PDF leaves the notice without the attachment (and says so in the log); the notice
 * goes out all the same. A fax still in progress has no report attached: its last recipient's
 * notice carries the final one.
 */
export class ConfirmationReports {
  constructor(private readonly options: ConfirmationReportsOptions) {}

  async fetchFor(result: DeliveryRecipientFinal, settings: NotificationSettings): Promise<NoticeAttachment | undefined> {
    const { urlTemplate, logger } = this.options;
    if (!urlTemplate) return undefined;
    const about = { resultId: result.resultId, faxId: result.faxId };
    const without = (why: string, extra: Record<string, unknown> = {}) => {
      logger.warn({ ...about, ...extra }, `the confirmation report is not attached: ${why}; the notice goes without it`);
      return undefined;
    };
    try {
      const token = await issueToken(this.options.auth, result.ownerId, TOKEN_SECONDS, { locale: settings.locale, tz: settings.timeZone });
      const response = await fetch(urlTemplate.replaceAll('{faxId}', encodeURIComponent(result.faxId)), {
        headers: { authorization: `Bearer ${token}`, accept: 'application/pdf' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const maxBytes = this.options.maxBytes ?? MAX_REPORT_BYTES;
      if (!response.ok || Number(response.headers.get('content-length') ?? 0) > maxBytes) {
        await response.body?.cancel();
        return without(response.ok ? 'it is too large' : `the status tracker answered ${response.status}`, { status: response.status });
      }
      const state = response.headers.get(FAX_STATE_HEADER);
      if (state === 'in_progress') {
        await response.body?.cancel();
        logger.info(about, 'the fax is still in progress: its confirmation report goes with the notice that finishes it');
        return undefined;
      }
      const content = Buffer.from(await response.arrayBuffer());
      if (content.length > maxBytes) return without('it is too large');
      if (content.subarray(0, 5).toString('latin1') !== '%PDF-') return without('the status tracker answered something other than a PDF');
      const named = /filename="([A-Za-z0-9._-]{1,120}\.pdf)"/.exec(response.headers.get('content-disposition') ?? '')?.[1];
      return { fileName: named ?? `fax-report-${result.faxId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)}.pdf`, contentType: 'application/pdf', content };
    } catch (error) {
      return without('the status tracker could not be reached', { error: errorMessage(error) });
    }
  }
}
