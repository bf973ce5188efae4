import { ConfigError, describeConfig } from '@faxnotify/kit';
import { loadTransmitterConfig, transmitterSchema } from './config';

describe('transmitter configuration', () => {
  it('has a default for everything and reads the lines and dial rules as JSON from the environment', () => {
    const defaults = loadTransmitterConfig({}, {});
    expect(defaults).toMatchObject({
      http: { port: 8081 },
      lines: [],
      limits: { maxFiles: 10, maxBytes: 31_457_280 },
      retry: { busySeconds: 180, noAnswerSeconds: 600 },
    });
    const lines = [
      { id: 'modem1', kind: 'class1', device: '/dev/ttyACM0' },
      { id: 'modem2', kind: 'class2.0', device: '/dev/ttyUSB0', dialPrefix: 'T', timers: { hangupGuard: 2000 } },
      { id: 'ata1', kind: 'ata', account: 'acme', modem: 'class2.0', device: '/dev/ttyUSB1' },
    ];
    const config = loadTransmitterConfig(
      {},
      {
        TRANSMITTER_LINES: JSON.stringify(lines),
        TRANSMITTER_DIAL_RULES: JSON.stringify([{ match: '^\\+1202555(\\d{4})$', dial: '2002' }]),
        TRANSMITTER_DIAL_REGION: 'DE',
        TRANSMITTER_RETRY_BUSY_SECONDS: '60',
        TRANSMITTER_RETRY_DEFAULT_COUNT: '3',
        JWT_SECRET: 'a-secret-long-enough-for-hs256',
      },
    );
    expect(config.lines).toEqual(lines);
    expect(config.dial).toEqual({
      prefix: '',
      region: 'DE',
      rules: [{ match: '^\\+1202555(\\d{4})$', dial: '2002' }],
      blockedPrefixes: [],
      blockPremiumRate: true,
    });
    expect(config.rateLimits).toEqual({ submissions: { max: 100, windowSeconds: 3600 } });
    expect(config.retry).toMatchObject({ busySeconds: 60, defaultCount: 3 });
  });

  it('stops on a wrong value, naming the key and the problem', () => {
    const lines = (value: unknown) => () => loadTransmitterConfig({}, { TRANSMITTER_LINES: JSON.stringify(value) });
    expect(() => loadTransmitterConfig({}, { TRANSMITTER_LINES: '[{' })).toThrow(/lines: must be a JSON array/);
    expect(lines([{ id: 'm1', kind: 'class3', device: '/dev/x' }])).toThrow(/lines: line 1 \(m1\): kind/);
    expect(
      lines([
        { id: 'm1', kind: 'class1', device: '/dev/x' },
        { id: 'm1', kind: 'class1', device: '/dev/y' },
      ]),
    ).toThrow(/used twice/);
    expect(lines([{ id: 'm1', kind: 'class1' }])).toThrow(/device/);
    expect(lines([{ id: 'm1', kind: 'class1', device: '/dev/x', speed: 9600 }])).toThrow(/unknown key "speed"/);
    expect(lines([{ id: 'a1', kind: 'ata', device: '/dev/x' }])).toThrow(/line 1 \(a1\): an "ata" line needs the port-server account/);
    expect(lines([{ id: 'a1', kind: 'ata', device: '/dev/x', account: 'acme', modem: 'class3' }])).toThrow(
      /line 1 \(a1\): modem must be "class1" or "class2.0"/,
    );
    expect(lines([{ id: 'm1', kind: 'class1', device: '/dev/x', account: 'acme' }])).toThrow(/line 1 \(m1\): account and modem belong to "ata" lines only/);
    expect(() => loadTransmitterConfig({}, { TRANSMITTER_DIAL_RULES: JSON.stringify([{ match: '(', dial: '1' }]) })).toThrow(ConfigError);
    expect(() => loadTransmitterConfig({}, { TRANSMITTER_DIAL_REGION: 'usa' })).toThrow(/dial\.region/);
    expect(() => loadTransmitterConfig({}, { TRANSMITTER_DIAL_BLOCKED_PREFIXES: '["+1900", "900"]' })).toThrow(/dial\.blockedPrefixes: prefix 2 must be "\+"/);
    expect(() => loadTransmitterConfig({}, { TRANSMITTER_DIAL_BLOCKED_PREFIXES: '+1900' })).toThrow(/dial\.blockedPrefixes: must be a JSON array/);
    expect(() => loadTransmitterConfig({}, { TRANSMITTER_RATE_LIMIT_SUBMISSIONS_WINDOW_SECONDS: '0' })).toThrow(/rateLimits\.submissions\.windowSeconds/);
    expect(
      loadTransmitterConfig({}, { TRANSMITTER_DIAL_BLOCKED_PREFIXES: '["+44 (9)", "+1-900"]', TRANSMITTER_RATE_LIMIT_SUBMISSIONS_MAX: '0' }),
    ).toMatchObject({
      dial: { blockedPrefixes: ['+44 (9)', '+1-900'] },
      rateLimits: { submissions: { max: 0 } },
    });
    expect(() => loadTransmitterConfig({}, { TRANSMITTER_LOCAL_ID: 'a fax id that is far too long' })).toThrow(/localId/);
    expect(() => loadTransmitterConfig({}, { TRANSMITTER_RETRY_DEFAULT_COUNT: '4' })).toThrow(/retry\.defaultCount/);
  });

  it('reads receiving lines (mode, number, owner, called-number owners) and refuses an answering side that cannot work', () => {
    const receiving = [
      { id: 'rx1', kind: 'class1', device: '/dev/ttyIAX1', mode: 'receive', number: '2002', owner: 'alice', owners: { '2003': 'bob' } },
      { id: 'both1', kind: 'class2.0', device: '/dev/ttyIAX2', mode: 'both', owner: 'carol', answerId: '+1 202 555 0100' },
      { id: 'tx1', kind: 'class1', device: '/dev/ttyIAX3', mode: 'send' },
    ];
    expect(loadTransmitterConfig({}, { TRANSMITTER_LINES: JSON.stringify(receiving) }).lines).toEqual(receiving);
    const lines = (value: unknown) => () =>
      loadTransmitterConfig({}, { TRANSMITTER_LINES: JSON.stringify([{ id: 'm1', kind: 'class1', device: '/dev/x', ...(value as object) }]) });
    expect(lines({ mode: 'answer' })).toThrow(/line 1 \(m1\): mode must be "send", "receive" or "both"/);
    expect(lines({ mode: 'receive' })).toThrow(/line 1 \(m1\): a receiving line needs the owner of its faxes/);
    expect(lines({ mode: 'both', owner: 'has space' })).toThrow(/needs the owner/);
    expect(lines({ owner: 'alice' })).toThrow(/line 1 \(m1\): owner belongs to lines that receive/);
    expect(lines({ mode: 'receive', owner: 'alice', number: 'two' })).toThrow(/number must be the digits callers dial/);
    expect(lines({ mode: 'receive', owner: 'alice', answerId: 'an answer id far too long' })).toThrow(/answerId must be 1-20 characters/);
    expect(lines({ mode: 'receive', owner: 'alice', owners: ['2002'] })).toThrow(/owners must be an object/);
    expect(lines({ mode: 'receive', owner: 'alice', owners: { x: 'bob' } })).toThrow(/owners: "x" is not a called number/);
    expect(lines({ mode: 'receive', owner: 'alice', owners: { '2002': 7 } })).toThrow(/owners: the owner of 2002 must be an account id/);
    expect(lines({ kind: 'ata', account: 'acme', mode: 'both', owner: 'alice' })).toThrow(/an "ata" line sends only/);
  });

  it('documents every key with an environment variable and hides the secret', () => {
    const rows = describeConfig(transmitterSchema);
    expect(rows.every((row) => row.doc.length > 0 && row.env.length > 0)).toBe(true);
    expect(rows.find((row) => row.key === 'auth.jwtSecret')).toMatchObject({ env: 'JWT_SECRET', sensitive: true, default: '(secret)' });
    expect(rows.find((row) => row.key === 'lines')).toMatchObject({ env: 'TRANSMITTER_LINES', default: '[]' });
  });
});
