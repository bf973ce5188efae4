import type { Channel } from '../channels/types';

/**
 * How results of a fax reach the owner: a notice per recipient, one summary per fax, both, or
 * `auto`: one summary when the fax has more recipients than `threshold`, else a notice per recipient.
 */
export type SummaryMode = 'recipient' | 'fax' | 'both' | 'auto';
export const SUMMARY_MODES: readonly SummaryMode[] = ['auto', 'recipient', 'fax', 'both'];

export interface SummaryChoice {
  mode: SummaryMode;
  /** In `auto`, a fax with more recipients than this gets one summary instead of a notice per recipient. */
  threshold: number;
  /** The channels summaries go to; the channels left out keep a notice per recipient. */
  channels: Channel[];
}

export const SUMMARY_THRESHOLD_MAX = 1000;
export const DEFAULT_SUMMARY: SummaryChoice = { mode: 'auto', threshold: 5, channels: ['email', 'sms', 'xmpp'] };

/** The JSON shape of `summary` in the settings API (every part may be left out: it keeps what the user had). */
export const summaryBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    mode: { type: 'string', enum: [...SUMMARY_MODES] },
    threshold: { type: 'integer', minimum: 0, maximum: SUMMARY_THRESHOLD_MAX },
    channels: { type: 'array', uniqueItems: true, maxItems: 3, items: { type: 'string', enum: ['email', 'sms', 'xmpp'] } },
  },
} as const;

/** The summary choice a client's (partial) input makes of the current one. */
export const mergeSummary = (input: Partial<SummaryChoice> | undefined, current: SummaryChoice): SummaryChoice => ({
  mode: input?.mode ?? current.mode,
  threshold: input?.threshold ?? current.threshold,
  channels: input?.channels ? (['email', 'sms', 'xmpp'] as const).filter((c) => input.channels!.includes(c)) : current.channels,
});

/** Whether a fax of `recipientCount` recipients gets one summary. */
export function wantsSummary(choice: SummaryChoice, recipientCount: number): boolean {
  if (choice.mode === 'auto') return recipientCount > choice.threshold;
  return choice.mode === 'fax' || choice.mode === 'both';
}

/**
 * Whether a recipient's result goes out as its own notice on `channel`: not when the fax's summary
 * stands for it there. A result that does not say how many recipients its fax has (an event of
 * an older tracker) is noticed per recipient.
 */
export function wantsRecipientNotice(choice: SummaryChoice, channel: Channel, recipientCount: number | null): boolean {
  if (!choice.channels.includes(channel)) return true;
  if (choice.mode === 'recipient' || choice.mode === 'both') return true;
  if (recipientCount === null) return true;
  return !wantsSummary(choice, recipientCount);
}

/** The settings row's columns for a summary choice, and back. */
export const summaryColumns = (choice: SummaryChoice) => ({
  summary_mode: choice.mode,
  summary_threshold: choice.threshold,
  summary_channels: choice.channels.join(','),
});

export function summaryOfRow(row: { summary_mode: string; summary_threshold: number; summary_channels: string }): SummaryChoice {
  const mode = (SUMMARY_MODES as readonly string[]).includes(row.summary_mode) ? (row.summary_mode as SummaryMode) : DEFAULT_SUMMARY.mode;
  const listed = row.summary_channels.split(',');
  return { mode, threshold: row.summary_threshold, channels: (['email', 'sms', 'xmpp'] as const).filter((c) => listed.includes(c)) };
}
