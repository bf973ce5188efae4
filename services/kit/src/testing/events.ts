import type { FaxRecipientResult } from '@faxnotify/contracts';

/** A delivered recipient's result, as the broker tests publish it. */
export const result = (recipientId: string): FaxRecipientResult => ({
  faxId: 'fax-1',
  recipientId,
  number: '+12025550101',
  attempt: 1,
  sequence: 1,
  status: 'success',
  reason: { code: 'OK', detail: '' },
  pagesSent: 1,
  pagesTotal: 1,
  remoteCsid: null,
  startedAt: null,
  endedAt: new Date().toISOString(),
  attempts: 1,
});
