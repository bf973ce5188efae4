/**
 * The rows and texts the recipient ledger writes: details and CSIDs cut to the contract's limits,
 * a final detail that names every attempt, and the attempt and recipient rows of a call's end.
 */
import { MAX_CSID_LENGTH, MAX_REASON_DETAIL_LENGTH } from '@faxnotify/contracts';
import type { AttemptRow, RecipientRow } from '../db/schema';
import type { AttemptEnd } from './types';

/** Cuts text to `max` characters; null stays null. */
export const cut = (text: string | null, max: number): string | null => (text === null ? null : text.length > max ? text.slice(0, max) : text);

/** A reason detail as the contract allows it. */
export const detailOf = (text: string): string => cut(text, MAX_REASON_DETAIL_LENGTH)!;

/** A remote CSID as the contract allows it. */
export const csidOf = (text: string | null): string | null => cut(text, MAX_CSID_LENGTH);

/** What the summary needs of each attempt row. */
export interface AttemptSummaryRow {
  attempt: number;
  status: string;
  reason_code: string;
  line_id: string | null;
  ended_at: string;
  pages_confirmed: number;
  pages_total: number;
}

/**
 * The final result's detail: the last attempt's raw line detail, then one line per attempt, so
 * the notice can say what was tried. The attempt list is kept whole; the raw detail gives way.
 */
export function withAttempts(detail: string, history: readonly AttemptSummaryRow[], maxAttempts: number, why: string): string {
  const lines = history.map(
    (a) =>
      `attempt ${a.attempt} of ${maxAttempts}${a.line_id ? ` on ${a.line_id}` : ''} ended ${a.ended_at}: ${a.status} (${a.reason_code}), ` +
      `${a.pages_confirmed}/${a.pages_total} pages`,
  );
  const summary = `\n${lines.join('\n')}\n${why}`;
  const room = Math.max(0, MAX_REASON_DETAIL_LENGTH - summary.length);
  const head = detail.length > room ? `${detail.slice(0, Math.max(0, room - 1))}…` : detail;
  return `${head}${summary}`.slice(0, MAX_REASON_DETAIL_LENGTH);
}

/** What a call's end sets on the recipient, whether it is redialled or final. */
export function callFacts(end: AttemptEnd, detail: string, now: Date) {
  return {
    pages_confirmed: end.pagesConfirmed,
    pages_total: end.pagesTotal,
    remote_csid: csidOf(end.remoteCsid),
    remote_csid_raw: csidOf(end.remoteCsidRaw),
    connected_at: end.connectedAt?.toISOString() ?? null,
    reason_code: end.reason.code,
    reason_detail: detail,
    ended_at: end.endedAt.toISOString(),
    updated_at: now.toISOString(),
  };
}

/** The attempts row of a call that ended with `end`, as `recorded` says it ended. */
export function attemptRow(
  current: RecipientRow,
  end: AttemptEnd,
  recorded: Pick<AttemptRow, 'status' | 'reason_code' | 'reason_detail' | 'pages_confirmed'>,
): AttemptRow {
  return {
    outbox_id: current.outbox_id,
    position: current.position,
    attempt: current.attempt,
    line_id: current.line_id,
    pages_total: end.pagesTotal,
    started_at: end.startedAt.toISOString(),
    connected_at: end.connectedAt?.toISOString() ?? null,
    ended_at: end.endedAt.toISOString(),
    signalling_rate: end.signallingRate,
    remote_csid: csidOf(end.remoteCsid),
    remote_csid_raw: csidOf(end.remoteCsidRaw),
    ...recorded,
  };
}
