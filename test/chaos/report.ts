/** The chaos run's figures, from what each peer received against what the run expected. */

export type ChaosChannel = 'email' | 'sms' | 'xmpp';
export const CHAOS_CHANNELS: readonly ChaosChannel[] = ['email', 'sms', 'xmpp'];

/** One notice the run expects: a result on one channel, known by its notice id. */
export interface ExpectedNotice {
  resultId: string;
  channel: ChaosChannel;
  noticeId: string;
}

export interface FaultRecord {
  kind: string;
  target: string;
  /** Seconds since the run's start. */
  at: number;
  /** When a fault that lasts a while ended (seconds since the start). */
  until?: number;
}

export interface ChannelFigures {
  expected: number;
  /** Copies received, duplicates included. */
  received: number;
  lost: number;
  duplicated: number;
}

export interface Tally {
  notices: Record<ChaosChannel, ChannelFigures>;
  /** Expected notices no peer received. */
  lost: number;
  /** Extra copies of notices received more than once. */
  duplicated: number;
  /** duplicated / expected notices. */
  duplicatedRate: number;
  /** Copies that match no expected notice (should be none). */
  unexpected: number;
  /** Up to 20 lost notices, to look them up. */
  lostExamples: Array<{ resultId: string; channel: ChaosChannel }>;
}

/** Counts, per channel, lost notices (expected, never received) and duplicates (copies beyond the first). */
export function tally(expected: readonly ExpectedNotice[], received: Record<ChaosChannel, readonly string[]>): Tally {
  const notices = Object.fromEntries(CHAOS_CHANNELS.map((c) => [c, { expected: 0, received: 0, lost: 0, duplicated: 0 }])) as Record<
    ChaosChannel,
    ChannelFigures
  >;
  const lostExamples: Tally['lostExamples'] = [];
  let unexpected = 0;
  for (const channel of CHAOS_CHANNELS) {
    const copies = new Map<string, number>();
    for (const id of received[channel]) copies.set(id, (copies.get(id) ?? 0) + 1);
    const figures = notices[channel];
    const wanted = new Set<string>();
    for (const notice of expected) {
      if (notice.channel !== channel) continue;
      wanted.add(notice.noticeId);
      figures.expected++;
      const n = copies.get(notice.noticeId) ?? 0;
      figures.received += n;
      if (n === 0) {
        figures.lost++;
        if (lostExamples.length < 20) lostExamples.push({ resultId: notice.resultId, channel });
      } else figures.duplicated += n - 1;
    }
    for (const [id, n] of copies) if (!wanted.has(id)) unexpected += n;
  }
  const total = CHAOS_CHANNELS.reduce((sum, c) => sum + notices[c].expected, 0);
  const lost = CHAOS_CHANNELS.reduce((sum, c) => sum + notices[c].lost, 0);
  const duplicated = CHAOS_CHANNELS.reduce((sum, c) => sum + notices[c].duplicated, 0);
  return { notices, lost, duplicated, duplicatedRate: total ? duplicated / total : 0, unexpected, lostExamples };
}

/** Whether every expected notice has arrived at least once. */
export function allArrived(expected: readonly ExpectedNotice[], received: Record<ChaosChannel, readonly string[]>): boolean {
  const seen = Object.fromEntries(CHAOS_CHANNELS.map((c) => [c, new Set(received[c])])) as Record<ChaosChannel, Set<string>>;
  return expected.every((notice) => seen[notice.channel].has(notice.noticeId));
}

/** The goals: nothing lost, at most 0.1 % duplicated. */
export const GOALS = { lost: 0, duplicatedRate: 0.001 } as const;

export const goalsMet = (t: Pick<Tally, 'lost' | 'duplicatedRate'>): boolean => t.lost <= GOALS.lost && t.duplicatedRate <= GOALS.duplicatedRate;
