/**
 * Every documented Access-Request pair, sent by radclient as the port server would, with the
 * manual's example packets reproduced, against the server loading the shipped dictionary. Each
 * reply is the manual's plus Message-Authenticator (18 octets), which every reply carries.
 */
import { recordCalledNumber } from './store';
import { startAtaTestServer, type AtaTestServer } from './testing/port-server';

jest.setTimeout(30_000);

let ata: AtaTestServer;
/** Message-Authenticator: what every reply carries beyond the manual's example. */
const SIGNED = 18;
const published: string[] = [];

const request = (command: string, context: string, userName: string, extra: ReadonlyArray<readonly [string, string | number]> = []) =>
  ata.send('auth', [['FB-Command', command], ['FB-Context', context], ['User-Name', userName], ...extra]);

beforeAll(async () => {
  ata = await startAtaTestServer({ label: 'access', placeholderNumbers: false, bus: { publishEvent: async (key) => void published.push(key) } });
  const store = ata.server.store;
  const account = await store.createAccount({ name: 'account', password: 'secret', ownerId: 'owner-1', accountType: 4, receiveEmail: 'email@domain.com' });
  const test = await store.createAccount({ name: 'TEST', password: 'test', ownerId: 'owner-2' });
  await store.createAccount({ name: 'never', password: 'pw', ownerId: 'owner-1', callAheadMode: 'never' });
  await store.createAccount({ name: 'quiet', password: 'pw', ownerId: 'owner-1', sendEnabled: false, receiveEnabled: false });
  await store.putDid(test!.id, '1111', {});
  await store.putDid(test!.id, '2222', {});
  await store.putDid(account!.id, '8005550100', {});
  await store.putDid(account!.id, '8005550199', { enabled: false });
  // An ATA line: its caller id gives the line's queue profile and outgoing caller id.
  await store.putDid(account!.id, '2125550142', { queueProfile: '<QPXml Op="1" Rf="0" Dn="1" />', sendAni: '2125550100', lineId: 'front desk', lineNum: 1 });
  await recordCalledNumber(ata.database.db, '+15551231234', 'fax', new Date());
});

afterAll(async () => {
  await ata?.close();
});

describe('Get-Account / Account-Login (manual p12-p13)', () => {
  it('accepts the manual example login with FB-Account-Type=4 in a 32-octet reply', async () => {
    const reply = await request('Get-Account', 'Account-Login', 'account', [
      ['User-Password', 'secret'],
      ['FB-Client-Info', ';FV=1.0.0.0;MN=NICKDUO;IP=10.0.0.84'],
    ]);
    expect(reply.code).toBe('Access-Accept');
    expect(reply.length).toBe(32 + SIGNED);
    expect(reply.messageAuthenticator).toBeDefined();
    expect(reply.attributes).toEqual([{ name: 'FB-Account-Type', value: 'Private-Send-Receive-Queue' }]);
  });

  it('compares account names without case', async () => {
    const reply = await request('Get-Account', 'Account-Login', 'AcCoUnT', [['User-Password', 'secret']]);
    expect(reply.code).toBe('Access-Accept');
  });

  it('rejects a wrong password and an unknown account', async () => {
    expect((await request('Get-Account', 'Account-Login', 'account', [['User-Password', 'wrong']])).code).toBe('Access-Reject');
    expect((await request('Get-Account', 'Account-Login', 'nobody', [['User-Password', 'secret']])).code).toBe('Access-Reject');
  });

  it("tells the port server an account's call-ahead mode when it is not the default (Dynamic)", async () => {
    const reply = await request('Get-Account', 'Account-Login', 'never', [['User-Password', 'pw']]);
    expect(reply.code).toBe('Access-Accept');
    expect(reply.attributes).toEqual([{ name: 'FB-Call-Ahead-Mode', value: 'Never' }]);
  });
});

describe('Get-Account / Account-Validate (manual p13-p14)', () => {
  it('accepts valid credentials with the account type and rejects others', async () => {
    const ok = await request('Get-Account', 'Account-Validate', 'ACCOUNT', [['User-Password', 'secret']]);
    expect(ok.code).toBe('Access-Accept');
    expect(ok.get('FB-Account-Type')).toBe('Private-Send-Receive-Queue');
    expect((await request('Get-Account', 'Account-Validate', 'account', [['User-Password', 'nope']])).code).toBe('Access-Reject');
  });
});

describe('Get-Account / Pre-Send-Session (manual p14-p16)', () => {
  it('answers the manual example with an empty Accept and remembers the session', async () => {
    const reply = await request('Get-Account', 'Pre-Send-Session', 'account', [
      ['Acct-Session-Id', 'ea7a820446d54db8a98f42be08e65b23'],
      ['FB-Dial-Number', '5551112345'],
      ['FB-Transfer-Type', 'Real-time'],
    ]);
    expect(reply.code).toBe('Access-Accept');
    expect(reply.length).toBe(20 + SIGNED);
    expect(reply.messageAuthenticator).toBeDefined();
    const session = await ata.database.db
      .selectFrom('ata_sessions')
      .selectAll()
      .where('session_id', '=', 'ea7a820446d54db8a98f42be08e65b23')
      .executeTakeFirstOrThrow();
    expect(session).toMatchObject({ account_name: 'account', direction: 'send', dial_number: '5551112345', state: 'authorized' });
  });

  it('adds the call-ahead decision for an ATA (queue) send', async () => {
    const reply = await request('Get-Account', 'Pre-Send-Session', 'account', [
      ['Acct-Session-Id', '1_jGYVe4sNmF9sEp[eEdKoiA'],
      ['FB-Dial-Number', '2025550177'],
      ['FB-Transfer-Type', 'Queue'],
    ]);
    expect(reply.code).toBe('Access-Accept');
    expect(reply.attributes).toEqual([{ name: 'FB-Call-Ahead-Mode', value: 'Dynamic' }]);
  });

  it('rejects an unknown account, and an account that may not send when the dictionary cannot say "disabled"', async () => {
    expect((await request('Get-Account', 'Pre-Send-Session', 'nobody', [['Acct-Session-Id', 's-1']])).code).toBe('Access-Reject');
    expect((await request('Get-Account', 'Pre-Send-Session', 'quiet', [['Acct-Session-Id', 's-2']])).code).toBe('Access-Reject');
  });
});

describe('Get-Account / Pre-Receive-Session (manual p16-p17)', () => {
  it('answers the manual example with an empty Accept', async () => {
    const reply = await request('Get-Account', 'Pre-Receive-Session', 'account', [
      ['Acct-Session-Id', '0_yhYH4nK3]dtTFspcBkJQMA'],
      ['FB-Dial-Number', '5551112345'],
      ['FB-Transfer-Type', 'Real-time'],
    ]);
    expect(reply.code).toBe('Access-Accept');
    expect(reply.length).toBe(20 + SIGNED);
    expect(reply.messageAuthenticator).toBeDefined();
  });

  it('rejects unknown accounts and accounts that may not receive', async () => {
    expect((await request('Get-Account', 'Pre-Receive-Session', 'nobody', [['Acct-Session-Id', 'r-1']])).code).toBe('Access-Reject');
    expect((await request('Get-Account', 'Pre-Receive-Session', 'quiet', [['Acct-Session-Id', 'r-2']])).code).toBe('Access-Reject');
  });
});

describe('Get-Account / For-External-Module (manual p17-p18)', () => {
  it('gives the account type and the receive e-mail address', async () => {
    const reply = await request('Get-Account', 'For-External-Module', 'Account');
    expect(reply.code).toBe('Access-Accept');
    expect(reply.get('FB-Account-Type')).toBe('Private-Send-Receive-Queue');
    expect(reply.get('FB-Rcv-Email')).toBe('email@domain.com');
    expect((await request('Get-Account', 'For-External-Module', 'nobody')).code).toBe('Access-Reject');
  });
});

describe('Get-Account-From-DID (manual p18-p20)', () => {
  it('routes a DID to its account before a receive', async () => {
    const reply = await request('Get-Account-From-DID', 'Pre-Receive-Session', '8005550100', [['Acct-Session-Id', '1249336279265001']]);
    expect(reply.code).toBe('Access-Accept');
    expect(reply.attributes).toEqual([{ name: 'User-Name', value: 'account' }]);
  });

  it('answers the e-mail gateway like the manual example: User-Name and FB-Rcv-Email in 53 octets', async () => {
    const reply = await request('Get-Account-From-DID', 'For-External-Module', '8005550100');
    expect(reply.code).toBe('Access-Accept');
    expect(reply.length).toBe(53 + SIGNED);
    expect(reply.messageAuthenticator).toBeDefined();
    expect(reply.attributes).toEqual([
      { name: 'User-Name', value: 'account' },
      { name: 'FB-Rcv-Email', value: 'email@domain.com' },
    ]);
  });

  it('rejects a DID that routes nowhere, and a disabled one when the dictionary cannot say "disabled"', async () => {
    expect((await request('Get-Account-From-DID', 'Pre-Receive-Session', '8005559999', [['Acct-Session-Id', 'x']])).code).toBe('Access-Reject');
    expect((await request('Get-Account-From-DID', 'Pre-Receive-Session', '8005550199', [['Acct-Session-Id', 'y']])).code).toBe('Access-Reject');
  });
});

describe('Get-Call-Ahead-Mode / Pre-Send-Session (manual p23-p24)', () => {
  it('answers the manual example: a number that already got a fax is not called ahead (FB-Call-Ahead-Mode=0, 32 octets)', async () => {
    const reply = await request('Get-Call-Ahead-Mode', 'Pre-Send-Session', '5551231234', [['Acct-Session-Id', '1249336279265000']]);
    expect(reply.code).toBe('Access-Accept');
    expect(reply.length).toBe(32 + SIGNED);
    expect(reply.messageAuthenticator).toBeDefined();
    expect(reply.attributes).toEqual([{ name: 'FB-Call-Ahead-Mode', value: 'Never' }]);
  });

  it('calls a number ahead that never got a fax', async () => {
    const reply = await request('Get-Call-Ahead-Mode', 'Pre-Send-Session', '5557654321', [['Acct-Session-Id', '1249336279265002']]);
    expect(reply.code).toBe('Access-Accept');
    expect(reply.attributes).toEqual([{ name: 'FB-Call-Ahead-Mode', value: 'Dynamic' }]);
  });
});

describe('Get-DID (manual p25-p28)', () => {
  it('answers an ATA line without settings with an empty Accept, never a Reject (that would end the fax)', async () => {
    const reply = await request('Get-DID', 'Pre-Send-Session', '9995550000', [['Acct-Session-Id', 'b5884d75-ad74-4164-b4dd-aab8f5de542a']]);
    expect(reply.code).toBe('Access-Accept');
    expect(reply.length).toBe(20 + SIGNED);
    expect(reply.messageAuthenticator).toBeDefined();
  });

  it('gives a known line its account, queue profile and caller id before a send', async () => {
    const reply = await request('Get-DID', 'Pre-Send-Session', '2125550142', [['Acct-Session-Id', 'b5884d75-ad74-4164-b4dd-aab8f5de542b']]);
    expect(reply.code).toBe('Access-Accept');
    expect(reply.attributes).toEqual([
      { name: 'User-Name', value: 'account' },
      { name: 'FB-Queue-Profile', value: '<QPXml Op=\\"1\\" Rf=\\"0\\" Dn=\\"1\\" />' },
      { name: 'FB-Snd-ANI', value: '2125550100' },
    ]);
  });

  it('answers provisioning about a DID, and an unknown DID with an empty Accept', async () => {
    const known = await request('Get-DID', 'For-External-Module', '2125550142');
    expect(known.code).toBe('Access-Accept');
    expect(known.get('User-Name')).toBe('account');
    expect(known.get('FB-Snd-ANI')).toBe('2125550100');
    const unknown = await request('Get-DID', 'For-External-Module', '1234');
    expect(unknown.code).toBe('Access-Accept');
    expect(unknown.length).toBe(20 + SIGNED);
    expect(unknown.messageAuthenticator).toBeDefined();
  });
});

describe('Get-DIDs-For-Account (manual p28-p29)', () => {
  it('answers the manual example with one FB-DID per DID in 44 octets', async () => {
    const reply = await request('Get-DIDs-For-Account', 'For-External-Module', 'TEST');
    expect(reply.code).toBe('Access-Accept');
    expect(reply.length).toBe(44 + SIGNED);
    expect(reply.messageAuthenticator).toBeDefined();
    expect(reply.all('FB-DID')).toEqual(['1111', '2222']);
  });

  it('gives an account without DIDs an empty Accept', async () => {
    const reply = await request('Get-DIDs-For-Account', 'For-External-Module', 'never');
    expect(reply.code).toBe('Access-Accept');
    expect(reply.length).toBe(20 + SIGNED);
    expect(reply.messageAuthenticator).toBeDefined();
  });
});

describe('pairs the manual does not list', () => {
  it('rejects a command with a context it does not go with, and commands we do not serve', async () => {
    expect((await request('Get-DID', 'Account-Login', 'account')).code).toBe('Access-Reject');
    expect((await request('Get-Account-From-MAC-Address', 'For-External-Module', '00908F1D37F0')).code).toBe('Access-Reject');
  });

  it('published nothing: Access-Requests never make events', () => {
    expect(published).toEqual([]);
  });
});

describe('accounting with the shipped dictionary', () => {
  it('answers every record but tracks no fax, since it cannot tell a result without FB-Fax-Error-Code', async () => {
    for (const status of ['Start', 'Stop'])
      expect(
        (
          await ata.send('acct', [
            ['Acct-Status-Type', status],
            ['Acct-Session-Id', 'shipped-1'],
            ['User-Name', 'account'],
            ['FB-Dial-Number', '2025550143'],
          ])
        ).code,
      ).toBe('Accounting-Response');
    const session = await ata.database.db.selectFrom('ata_sessions').selectAll().where('session_id', '=', 'shipped-1').executeTakeFirstOrThrow();
    expect(session).toMatchObject({ state: 'stopped', fax_id: null, dial_number: '2025550143' });
    expect(await ata.database.db.selectFrom('event_outbox').selectAll().execute()).toEqual([]);
    expect(ata.logLines.some((line) => String(line.msg).includes('faxes the port server reports are not tracked'))).toBe(true);
  });
});
