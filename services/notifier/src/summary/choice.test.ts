import { DEFAULT_SUMMARY, mergeSummary, summaryColumns, summaryOfRow, wantsRecipientNotice, wantsSummary, type SummaryChoice } from './choice';

const choice = (overrides: Partial<SummaryChoice> = {}): SummaryChoice => ({ ...DEFAULT_SUMMARY, ...overrides });

describe('per recipient or per fax', () => {
  it('auto (the default): a summary above the threshold, a notice per recipient up to it', () => {
    expect(DEFAULT_SUMMARY).toEqual({ mode: 'auto', threshold: 5, channels: ['email', 'sms', 'xmpp'] });
    expect(wantsSummary(choice(), 5)).toBe(false);
    expect(wantsSummary(choice(), 6)).toBe(true);
    expect(wantsRecipientNotice(choice(), 'email', 5)).toBe(true);
    expect(wantsRecipientNotice(choice(), 'email', 6)).toBe(false);
    expect(wantsSummary(choice({ threshold: 40 }), 40)).toBe(false);
    expect(wantsSummary(choice({ threshold: 0 }), 1)).toBe(true);
  });

  it('recipient: never a summary; fax: only a summary; both: both', () => {
    for (const count of [1, 6, 40]) {
      expect([wantsSummary(choice({ mode: 'recipient' }), count), wantsRecipientNotice(choice({ mode: 'recipient' }), 'sms', count)]).toEqual([false, true]);
      expect([wantsSummary(choice({ mode: 'fax' }), count), wantsRecipientNotice(choice({ mode: 'fax' }), 'sms', count)]).toEqual([true, false]);
      expect([wantsSummary(choice({ mode: 'both' }), count), wantsRecipientNotice(choice({ mode: 'both' }), 'sms', count)]).toEqual([true, true]);
    }
  });

  it('a channel left out of the summaries keeps a notice per recipient', () => {
    const emailOnly = choice({ mode: 'fax', channels: ['email'] });
    expect(wantsRecipientNotice(emailOnly, 'email', 40)).toBe(false);
    expect(wantsRecipientNotice(emailOnly, 'sms', 40)).toBe(true);
    expect(wantsRecipientNotice(emailOnly, 'xmpp', 40)).toBe(true);
  });

  it('a result that does not say how many recipients its fax has is noticed per recipient', () => {
    expect(wantsRecipientNotice(choice(), 'email', null)).toBe(true);
    expect(wantsRecipientNotice(choice({ mode: 'fax' }), 'email', null)).toBe(true);
  });

  it('keeps what a client leaves out, and lists the channels in one order without repeats', () => {
    const current = choice({ mode: 'both', threshold: 9 });
    expect(mergeSummary(undefined, current)).toEqual(current);
    expect(mergeSummary({ threshold: 2 }, current)).toEqual({ ...current, threshold: 2 });
    expect(mergeSummary({ channels: ['xmpp', 'email'] }, current).channels).toEqual(['email', 'xmpp']);
    expect(mergeSummary({ channels: [] }, current).channels).toEqual([]);
  });

  it('round-trips through the settings row', () => {
    for (const value of [choice(), choice({ mode: 'fax', threshold: 0, channels: [] }), choice({ mode: 'recipient', channels: ['sms'] })]) {
      expect(summaryOfRow(summaryColumns(value))).toEqual(value);
    }
    expect(summaryOfRow({ summary_mode: 'bogus', summary_threshold: 3, summary_channels: 'email,fax' })).toEqual({
      mode: 'auto',
      threshold: 3,
      channels: ['email'],
    });
  });
});
