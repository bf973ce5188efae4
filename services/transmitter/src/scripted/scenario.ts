import { randomUUID } from 'node:crypto';
import type { EventData, EventKey, FinalStatus } from '@faxnotify/contracts';

/**
 * A scripted fax: the events a transmitter would publish for it, in order. Stands in for real
 * lines in the demo, the end-to-end tests and the benchmark; the modem path publishes the same events.
 */
export interface ScriptedEvent<K extends EventKey = EventKey> {
  key: K;
  data: EventData<K>;
  subject: string;
  time: string;
}

export interface ScriptedRecipient {
  number: string;
  /** What happens on the line, attempt by attempt; the last attempt's outcome is the result. */
  attempts: Array<{
    csid?: string;
    pagesConfirmed: number;
    status: FinalStatus;
    reason: { code: string; detail: string };
  }>;
}

export interface ScriptedFax {
  faxId?: string;
  ownerId: string;
  subject: string;
  pages: number;
  recipients: ScriptedRecipient[];
  retry?: { count: number; delayMinutes: number };
  /** When the fax was submitted; calls follow a few seconds apart. */
  submittedAt?: Date;
}

/** The demo's fax: three recipients — one delivered, one busy, one partial. */
export const sampleFax = (ownerId: string, subject = 'Q3 report'): ScriptedFax => ({
  ownerId,
  subject,
  pages: 3,
  retry: { count: 1, delayMinutes: 1 },
  recipients: [
    {
      number: '+12025550101',
      attempts: [{ csid: 'ACME SALES FAX', pagesConfirmed: 3, status: 'success', reason: { code: 'OK', detail: 'MCF after EOP; DCN' } }],
    },
    {
      number: '+12025550102',
      attempts: [
        { pagesConfirmed: 0, status: 'failed_user_busy', reason: { code: 'BUSY', detail: 'ATD+12025550102 -> BUSY' } },
        { pagesConfirmed: 0, status: 'failed_user_busy', reason: { code: 'BUSY', detail: 'ATD+12025550102 -> BUSY' } },
      ],
    },
    {
      number: '+12025550103',
      attempts: [
        {
          csid: 'BRANCH OFFICE 7',
          pagesConfirmed: 2,
          status: 'partially_sent',
          reason: { code: 'NO_CARRIER', detail: 'NO CARRIER during page 3 of 3 (AT+FTM=146); pages 1-2 confirmed by MCF' },
        },
      ],
    },
  ],
});

/** Expands a scripted fax into the events a transmitter publishes: submitted, progress per step, result. */
export function scriptFaxEvents(fax: ScriptedFax): { faxId: string; events: ScriptedEvent[] } {
  const faxId = fax.faxId ?? `fax-${randomUUID()}`;
  const start = fax.submittedAt ?? new Date();
  let clock = start.getTime();
  const at = (advanceMs: number) => new Date((clock += advanceMs)).toISOString();
  const events: ScriptedEvent[] = [];
  const push = <K extends EventKey>(key: K, data: EventData<K>, subject: string, time: string) => events.push({ key, data, subject, time });

  const recipients = fax.recipients.map((r, i) => ({ ...r, recipientId: `r${i + 1}` }));
  push(
    'fax.submitted',
    {
      faxId,
      ownerId: fax.ownerId,
      subject: fax.subject,
      recipients: recipients.map((r) => ({ recipientId: r.recipientId, number: r.number })),
      files: [{ name: 'document.pdf', pages: fax.pages }],
      pages: fax.pages,
      submittedAt: start.toISOString(),
      retry: fax.retry ?? { count: 0, delayMinutes: 0 },
    },
    `fax/${faxId}`,
    start.toISOString(),
  );
  for (const r of recipients) {
    const subject = `fax/${faxId}/recipient/${r.recipientId}`;
    const ref = { faxId, recipientId: r.recipientId, number: r.number };
    let connectedAt: string | null = null;
    r.attempts.forEach((attempt, index) => {
      const n = index + 1;
      let sequence = 0;
      push('fax.recipient.progress', { ...ref, attempt: n, sequence: sequence++, status: 'dialing', at: at(1_000) }, subject, new Date(clock).toISOString());
      if (attempt.csid !== undefined) {
        connectedAt = at(9_000);
        push(
          'fax.recipient.progress',
          { ...ref, attempt: n, sequence: sequence++, status: 'connected', remoteCsid: attempt.csid, at: connectedAt },
          subject,
          connectedAt,
        );
        for (let page = 1; page <= attempt.pagesConfirmed; page++) {
          const time = at(12_000);
          push(
            'fax.recipient.progress',
            { ...ref, attempt: n, sequence: sequence++, status: 'sending', page: { n: page, of: fax.pages }, at: time },
            subject,
            time,
          );
        }
      }
      const last = n === r.attempts.length;
      const time = at(2_000);
      if (!last) {
        push(
          'fax.recipient.progress',
          {
            ...ref,
            attempt: n,
            sequence: sequence++,
            status: 'retry_scheduled',
            retry: { at: new Date(clock + 60_000).toISOString(), reason: attempt.reason },
            at: time,
          },
          subject,
          time,
        );
        clock += 60_000;
        return;
      }
      push(
        'fax.recipient.result',
        {
          ...ref,
          attempt: n,
          sequence: sequence++,
          status: attempt.status,
          reason: attempt.reason,
          pagesSent: attempt.pagesConfirmed,
          pagesTotal: fax.pages,
          remoteCsid: attempt.csid ?? null,
          startedAt: connectedAt,
          endedAt: time,
          attempts: r.attempts.length,
        },
        subject,
        time,
      );
    });
  }
  return { faxId, events };
}
