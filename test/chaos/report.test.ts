import { allArrived, goalsMet, tally, type ExpectedNotice } from './report';

const expected: ExpectedNotice[] = [
  { resultId: 'f1:r1', channel: 'email', noticeId: 'a1' },
  { resultId: 'f2:r1', channel: 'email', noticeId: 'a2' },
  { resultId: 'f1:r1', channel: 'sms', noticeId: 'b1' },
  { resultId: 'f1:r1', channel: 'xmpp', noticeId: 'c1' },
];

describe('the chaos tally', () => {
  it('counts lost notices and extra copies per channel, and copies nobody expected', () => {
    const t = tally(expected, { email: ['a1', 'a1', 'a1', 'zz'], sms: ['b1'], xmpp: [] });
    expect(t.notices.email).toEqual({ expected: 2, received: 3, lost: 1, duplicated: 2 });
    expect(t.notices.sms).toEqual({ expected: 1, received: 1, lost: 0, duplicated: 0 });
    expect(t.notices.xmpp).toEqual({ expected: 1, received: 0, lost: 1, duplicated: 0 });
    expect(t.lost).toBe(2);
    expect(t.duplicated).toBe(2);
    expect(t.duplicatedRate).toBe(0.5);
    expect(t.unexpected).toBe(1);
    expect(t.lostExamples).toEqual([
      { resultId: 'f2:r1', channel: 'email' },
      { resultId: 'f1:r1', channel: 'xmpp' },
    ]);
    expect(goalsMet(t)).toBe(false);
  });

  it('meets the goals with everything there once, and with one extra copy in a thousand', () => {
    const all = { email: ['a1', 'a2'], sms: ['b1'], xmpp: ['c1'] };
    expect(allArrived(expected, all)).toBe(true);
    expect(allArrived(expected, { ...all, xmpp: [] })).toBe(false);
    expect(goalsMet(tally(expected, all))).toBe(true);
    expect(goalsMet({ lost: 0, duplicatedRate: 0.001 })).toBe(true);
    expect(goalsMet({ lost: 0, duplicatedRate: 0.0011 })).toBe(false);
  });
});
