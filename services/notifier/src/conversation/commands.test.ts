import { MAX_MUTE_MINUTES, parseCommand, parseDuration } from './commands';

describe('Jabber commands', () => {
  it('reads each command by its first word, whatever the case and spacing', () => {
    expect(parseCommand('status')).toEqual({ kind: 'status' });
    expect(parseCommand('  STATUS \n')).toEqual({ kind: 'status' });
    expect(parseCommand('help')).toEqual({ kind: 'help' });
    expect(parseCommand('?')).toEqual({ kind: 'help' });
    expect(parseCommand('unmute')).toEqual({ kind: 'unmute' });
    expect(parseCommand('resend')).toEqual({ kind: 'resend' });
    expect(parseCommand('Resend fax-7f3a.b_2')).toEqual({ kind: 'resend', faxId: 'fax-7f3a.b_2' });
  });

  it('takes durations in minutes, hours and days, from a minute to a week', () => {
    expect(parseCommand('mute 30m')).toEqual({ kind: 'mute', minutes: 30 });
    expect(parseCommand('mute 2h')).toEqual({ kind: 'mute', minutes: 120 });
    expect(parseCommand('mute 1D')).toEqual({ kind: 'mute', minutes: 1440 });
    expect(parseDuration('7d')).toBe(MAX_MUTE_MINUTES);
    for (const bad of ['', '8d', '0m', '2', 'h', '2 hours', '-1h', '1.5h', '99999m']) expect(parseDuration(bad)).toBeUndefined();
    expect(parseCommand('mute')).toEqual({ kind: 'bad-duration' });
    expect(parseCommand('mute forever')).toEqual({ kind: 'bad-duration' });
  });

  it('looks up no fax id that is not one, and knows no other words', () => {
    expect(parseCommand('resend <script>')).toEqual({ kind: 'bad-fax-id' });
    expect(parseCommand('resend a b')).toEqual({ kind: 'bad-fax-id' });
    expect(parseCommand(`resend ${'x'.repeat(129)}`)).toEqual({ kind: 'bad-fax-id' });
    expect(parseCommand('unmute now')).toEqual({ kind: 'unknown' });
    expect(parseCommand('=HYPERLINK("x")')).toEqual({ kind: 'unknown' });
    expect(parseCommand('')).toEqual({ kind: 'unknown' });
  });
});
