import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { connectXmppClient, startProsody, startTwilioEndpoint } from '@faxnotify/notifier/testing';
import { eventually, freePort, startOidcProvider, type RunningOidcProvider } from '@faxnotify/peers';
import { startEfaxReceiver, startModemPairs } from '@faxnotify/fax-line/testing';
import { ataTestDictionaries, radclient, TEST_RADIUS_SECRET, type RequestAttributes } from '@faxnotify/transmitter/testing';
import { freeUdpPort, REPO_ROOT, startService } from '../support/processes';
import { startStack } from '../support/stack';
import { showNoticeLink } from './notice-link';
import { showReceivedFax } from './received-fax';

/**
 * `npm run demo`: the three services on embedded SQLite with a local SMTP server, a sample fax to
 * three recipients (one delivered, one busy, one partial) published by the transmitter's scripted
 * CLI, and the three emails as the SMTP server received them; the pages' sign-in through an
 * OpenID Connect provider on this machine (user "demo", password "demo-password"); a fax received
 * on a real line, its email with the PDF and the Inbox.
 */
async function main() {
  const { values } = parseArgs({
    options: {
      locale: { type: 'string', default: process.env.DEMO_LOCALE ?? 'en' },
      subject: { type: 'string', default: 'Q3 report' },
      // Keep the services up for a browser; the default when the demo runs in a terminal.
      keep: { type: 'boolean', default: Boolean(process.stdin.isTTY) },
    },
  });
  const say = (text: string) => process.stdout.write(`${text}\n`);
  say('faxnotify demo: starting the status tracker and the notifier (SQLite), a local SMTP server, a Prosody XMPP server and a Twilio-compatible endpoint…');
  const [prosody, twilio] = await Promise.all([
    startProsody({
      users: [
        { username: 'notifier', password: 'notifier-pw' },
        { username: 'owner', password: 'owner-pw' },
      ],
    }),
    startTwilioEndpoint(),
  ]);
  const ownerJabber = await connectXmppClient({ service: prosody.service, domain: prosody.domain, username: 'owner', password: 'owner-pw' });
  // The pages' sign-in: an OpenID Connect provider on this machine with the demo owner's account.
  const ports = { tracker: await freePort(), notifier: await freePort() };
  const provider = await startDemoProvider(ports, values.locale);
  const stack = await startStack('demo', {
    ports,
    extraEnv: {
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: DEMO_CLIENT.id,
      OIDC_CLIENT_SECRET: DEMO_CLIENT.secret,
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM: '+15005550006',
      TWILIO_BASE_URL: twilio.url,
      XMPP_SERVICE: prosody.service,
      XMPP_DOMAIN: prosody.domain,
      XMPP_USERNAME: 'notifier',
      XMPP_PASSWORD: 'notifier-pw',
      XMPP_ALLOW_PLAIN_WITHOUT_TLS: 'true',
      // The operator sets up virtual offices.
      STATUS_TRACKER_OFFICES_ADMIN_USERS: 'operator',
    },
  });
  try {
    say(`  status tracker ${stack.tracker.url}   notifier ${stack.notifier.url}   SMTP 127.0.0.1:${stack.smtp.port}   RabbitMQ vhost ${stack.vhost.name}`);
    await stack.saveSettings('demo', {
      email: { enabled: true, address: 'owner@example.test' },
      sms: { enabled: true, number: '+393331234567' },
      xmpp: { enabled: true, jid: ownerJabber.jid },
      locale: values.locale,
      timeZone: 'Europe/Moscow',
      notifyOn: 'all',
    });
    say(`  owner "demo": email owner@example.test, SMS +393331234567, Jabber ${ownerJabber.jid}; locale ${values.locale}, time zone Europe/Moscow`);

    say('Sending the sample fax (scripted transmitter): +12025550101 delivered, +12025550102 busy, +12025550103 partial…');
    const { stdout } = await promisify(execFile)(process.execPath, [
      join(REPO_ROOT, 'services', 'transmitter', 'dist', 'scripted', 'cli.js'),
      '--owner',
      'demo',
      '--subject',
      values.subject,
      '--amqp-url',
      stack.vhost.amqpUrl,
    ]);
    const faxId = stdout.trim();
    say(`  fax ${faxId} submitted`);

    await eventually(() => stack.smtp.mails.length >= 3, 60_000);
    stack.smtp.mails.forEach((mail, i) => {
      const to = mail.to && 'text' in mail.to ? mail.to.text : '';
      say(`\n──────── email ${i + 1} of 3 ────────`);
      say(
        `From: ${mail.from?.text ?? ''}\nTo: ${to}\nSubject: ${mail.subject ?? ''}\nMessage-ID: ${mail.messageId ?? ''}\nReferences: ${String(mail.references ?? '')}\n`,
      );
      say(typeof mail.text === 'string' ? mail.text.trim() : '(no text part)');
    });

    await eventually(() => twilio.messages.length >= 3, 60_000);
    twilio.messages.forEach((sms, i) => {
      say(`\n──────── SMS ${i + 1} of 3, as the Twilio-compatible endpoint received it ────────`);
      say(`To: ${sms.to}  From: ${sms.from ?? ''}  ${sms.segments} segment(s), ${sms.encoding}`);
      say(sms.body);
    });
    if (twilio.violations.length) say(`Twilio contract violations: ${twilio.violations.join('; ')}`);
    const chats = await ownerJabber.waitForMessages(3, 60_000);
    chats.forEach((chat, i) => {
      say(`\n──────── Jabber message ${i + 1} of 3, as ${ownerJabber.jid} received it ────────`);
      say(`From: ${chat.from}`);
      say(chat.body);
    });

    const token = await stack.token('demo');
    const fax = await eventually(async () => {
      const response = await fetch(`${stack.tracker.url}/v1/faxes/${faxId}`, { headers: { authorization: `Bearer ${token}` } });
      return response.ok ? ((await response.json()) as Record<string, unknown>) : undefined;
    });
    say('\n──────── the fax as the status tracker has it ────────');
    say(JSON.stringify(fax, null, 2));

    // The Sent folder as the owner's browser gets it once signed in (the page has the icon's text alternative).
    const folder = await fetch(`${stack.tracker.url}/faxes?lang=${values.locale}`, { headers: { authorization: `Bearer ${token}` } });
    const html = await folder.text();
    const row = html.split('<tr class="state-').find((r) => r.includes(`/faxes/${faxId}`)) ?? '';
    const icon = /aria-label="([^"]+)"/.exec(row)?.[1];
    say(
      `\nSent folder (${stack.tracker.url}/faxes): the sample fax is listed: ${folder.ok && html.includes(faxId) ? 'yes' : 'NO'}; its icon says "${icon ?? '?'}"`,
    );
    await showSignIn(stack, provider, faxId, say);
    await showNoticeLink(stack, faxId, say);
    await showOfficeFolder(stack, say);
    await sendRealFax(stack, say);
    await showReceivedFax(stack, say);
    say(
      '\nDemo finished: three recipients, three emails, three SMS, three Jabber messages; one real fax and its email; one fax from a fax ATA and its email; one fax received on a line, in the Inbox and emailed with its PDF.',
    );
    if (values.keep) {
      say('The services keep running for the link above; press Ctrl-C to stop them.');
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    await stack.stop();
    await ownerJabber.stop();
    await Promise.allSettled([prosody.stop(), twilio.close(), provider.close()]);
  }
}

/** The demo's identity provider client, registered for both services' sign-in. */
const DEMO_CLIENT = { id: 'faxnotify-demo', secret: 'faxnotify-demo-client-secret' };
const DEMO_USER = { username: 'demo', password: 'demo-password' };

/** oidc-provider in this process, with the demo owner's account (their language, Moscow time) and both services as its client. */
function startDemoProvider(ports: { tracker: number; notifier: number }, locale: string): Promise<RunningOidcProvider> {
  const urls = [ports.tracker, ports.notifier].map((port) => `http://127.0.0.1:${port}`);
  return startOidcProvider({
    users: [{ ...DEMO_USER, name: 'Demo Owner', locale, zoneinfo: 'Europe/Moscow' }],
    clients: [
      {
        clientId: DEMO_CLIENT.id,
        clientSecret: DEMO_CLIENT.secret,
        redirectUris: urls.map((url) => `${url}/auth/callback`),
        postLogoutRedirectUris: urls.map((url) => `${url}/auth/signed-out`),
      },
    ],
  });
}

/**
 * Signing in to the pages: the fax's deep link, signed out, goes to the identity provider; its
 * sign-in form (posted here as a browser would) comes back to the fax page, signed in.
 */
async function showSignIn(
  stack: Awaited<ReturnType<typeof startStack>>,
  provider: RunningOidcProvider,
  faxId: string,
  say: (text: string) => void,
): Promise<void> {
  const deepLink = `/faxes/${encodeURIComponent(faxId)}`;
  const start = await fetch(`${stack.tracker.url}${deepLink}`, { redirect: 'manual' });
  const login = await fetch(new URL(start.headers.get('location') ?? '/', stack.tracker.url), { redirect: 'manual' });
  const back = await provider.authorize(login.headers.get('location') ?? '', DEMO_USER);
  const callback = await fetch(back, {
    redirect: 'manual',
    headers: {
      cookie: login.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; '),
    },
  });
  const session =
    callback.headers
      .getSetCookie()
      .find((c) => c.startsWith('faxnotify_session='))
      ?.split(';')[0] ?? '';
  const page = await fetch(new URL(callback.headers.get('location') ?? '/', stack.tracker.url), { headers: { cookie: session } });
  const settings = await fetch(`${stack.notifier.url}/settings`, { headers: { cookie: session }, redirect: 'manual' });
  say(`
Sign-in (OpenID Connect, identity provider ${provider.issuer}):`);
  say(
    `  the deep link signed out goes to the provider: ${start.status} → ${login.status} → ${new URL(login.headers.get('location') ?? provider.issuer).origin}`,
  );
  say(`  signed in as "${DEMO_USER.username}", back on the fax page: ${page.status}; the settings page with the same session: ${settings.status}`);
  if (!page.ok || !settings.ok) throw new Error(`sign-in through the identity provider failed: fax page ${page.status}, settings page ${settings.status}`);
  say(`Open it in a browser: ${stack.tracker.url}${deepLink}`);
  say(`  and sign in at the identity provider as user "${DEMO_USER.username}", password "${DEMO_USER.password}"`);
}

/**
 * A virtual office: the operator (offices.adminUsers) makes "demo" the admin of an office with a
 * colleague; the colleague's fax then shows in the demo user's Sent folder, with who sent it.
 */
async function showOfficeFolder(stack: Awaited<ReturnType<typeof startStack>>, say: (text: string) => void): Promise<void> {
  say('\n──────── a virtual office: the Sent folder of the whole office ────────');
  const operator = await stack.token('operator');
  const asOperator = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${stack.tracker.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { id?: string };
    say(`${method} ${path} ${JSON.stringify(body)} as the operator (offices.adminUsers) -> ${response.status}`);
    if (!response.ok) throw new Error(`the offices API answered ${response.status}: ${JSON.stringify(answer)}`);
    return answer;
  };
  const office = await asOperator('POST', '/v1/offices', { name: 'Demo office' });
  await asOperator('PUT', `/v1/offices/${office.id}/members/demo`, { role: 'admin', displayName: 'Demo owner' });
  await asOperator('PUT', `/v1/offices/${office.id}/members/marta`, { displayName: 'Marta Rossi' });
  const { stdout } = await promisify(execFile)(process.execPath, [
    join(REPO_ROOT, 'services', 'transmitter', 'dist', 'scripted', 'cli.js'),
    '--owner',
    'marta',
    '--subject',
    'Order 7731',
    '--amqp-url',
    stack.vhost.amqpUrl,
  ]);
  const colleagueFax = stdout.trim();
  say(`  fax ${colleagueFax} submitted by the colleague "marta"`);
  const token = await stack.token('demo');
  type Listed = { faxes: Array<{ id: string; subject: string; owner: string; ownerName: string | null }> };
  const folder = await eventually(async () => {
    const response = await fetch(`${stack.tracker.url}/v1/faxes`, { headers: { authorization: `Bearer ${token}` } });
    const listed = response.ok ? ((await response.json()) as Listed) : undefined;
    return listed?.faxes.some((f) => f.id === colleagueFax) ? listed : undefined;
  });
  say(`The Sent folder of "demo" (the office's admin), as GET /v1/faxes lists it:`);
  for (const fax of folder.faxes) say(`  ${fax.id}  "${fax.subject}"  sent by ${fax.ownerName ?? fax.owner}`);
  const page = await (await fetch(`${stack.tracker.url}/faxes`, { headers: { authorization: `Bearer ${token}` } })).text();
  say(
    `Sent folder page: a "Sent by" column: ${page.includes('Sent by') ? 'yes' : 'NO'}; the colleague's fax listed: ${page.includes(colleagueFax) ? 'yes' : 'NO'}`,
  );
}

/**
 * A real fax: two iaxmodems back to back with efax answering as "RECEIVER CSID", the transmitter
 * service driving the calling modem in Class 1, submitted with the faxnotify command, and the
 * owner's email about it.
 */
async function sendRealFax(stack: Awaited<ReturnType<typeof startStack>>, say: (text: string) => void): Promise<void> {
  say('\n──────── a real fax over a modem pair (iaxmodem ⇄ iaxmodem, efax answering) ────────');
  const pairs = await startModemPairs(1);
  const pair = pairs.pairs[0];
  const receiver = await startEfaxReceiver(pair.receiverDevice, { localId: 'RECEIVER CSID', outputDir: join(pairs.dir, 'received') });
  const ata = { authPort: await freeUdpPort(), acctPort: await freeUdpPort(), dictionaries: ataTestDictionaries(true) };
  const transmitter = await startService('transmitter', {
    ...stack.env,
    TRANSMITTER_SQLITE_PATH: join(stack.dataDir, 'transmitter.sqlite'),
    TRANSMITTER_FILES_DIR: join(stack.dataDir, 'files'),
    TRANSMITTER_LOCAL_ID: '+12025550100',
    TRANSMITTER_LINES: JSON.stringify([{ id: 'demo-line', kind: 'class1', device: pair.senderDevice }]),
    // The demo's number reaches the far modem of the pair.
    TRANSMITTER_DIAL_RULES: JSON.stringify([{ match: '^\\+12025550199$', dial: '2002' }]),
    // The RADIUS server for fax ATAs, with radclient playing a FaxBack port server below.
    TRANSMITTER_ATA_ENABLED: 'true',
    TRANSMITTER_ATA_HOST: '127.0.0.1',
    TRANSMITTER_ATA_AUTH_PORT: String(ata.authPort),
    TRANSMITTER_ATA_ACCT_PORT: String(ata.acctPort),
    TRANSMITTER_ATA_DICTIONARY: ata.dictionaries.faxback,
    TRANSMITTER_ATA_CLIENTS: JSON.stringify([{ address: '127.0.0.1', secret: TEST_RADIUS_SECRET, name: 'port-server' }]),
    // The operator sets up fax ATA accounts and numbers; the demo user owns the account.
    TRANSMITTER_ATA_ADMIN_USERS: 'operator',
  });
  try {
    const ps = join(stack.dataDir, 'letter.ps');
    writeFileSync(
      ps,
      '%!PS\n/Helvetica findfont 28 scalefont setfont\n72 700 moveto (faxnotify demo) show\n72 660 moveto (A real fax over a modem pair) show\nshowpage\n',
    );
    const pdf = join(stack.dataDir, 'letter.pdf');
    await promisify(execFile)('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=pdfwrite', '-sPAPERSIZE=a4', `-sOutputFile=${pdf}`, ps]);
    const token = await stack.token('demo');
    say(`$ faxnotify send letter.pdf --to +12025550199 --subject "Real fax"   (transmitter ${transmitter.url})`);
    const cli = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'services', 'transmitter', 'dist', 'cli', 'faxnotify.js'),
        'send',
        pdf,
        '--to',
        '+12025550199',
        '--subject',
        'Real fax',
        '--api',
        transmitter.url,
        '--token',
        token,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const code = await new Promise<number | null>((resolve) => cli.once('exit', resolve));
    say(`(faxnotify exited with ${code})`);
    const mail = await eventually(() => stack.smtp.mails.find((m) => m.subject === 'Delivered: Real fax'), 60_000);
    say(`\nThe owner's email about it:\nSubject: ${mail.subject}\n`);
    say(typeof mail.text === 'string' ? mail.text.trim() : '');
    await reportThroughPortServer(stack, transmitter.url, ata, say);
  } finally {
    receiver.kill();
    await transmitter.stop();
    await pairs.stop();
  }
}

/**
 * A fax sent from a fax ATA behind a FaxBack port server, seen only through the port server's
 * RADIUS requests (radclient plays the port server): the owner's account, the call-ahead question
 * before and after, the accounting records (the Stop sent twice, as a port server resends it) and
 * the one email they give.
 */
async function reportThroughPortServer(
  stack: Awaited<ReturnType<typeof startStack>>,
  transmitterUrl: string,
  ata: { authPort: number; acctPort: number; dictionaries: ReturnType<typeof ataTestDictionaries> },
  say: (text: string) => void,
): Promise<void> {
  say('\n──────── a fax from a fax ATA, reported by a FaxBack port server over RADIUS (radclient plays the port server) ────────');
  say('(the accounting attributes use placeholder numbers here; with a real port server, load FaxBack\'s dictionary: README, "Fax ATAs")');
  const created = await fetch(`${transmitterUrl}/ata/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await stack.token('operator')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'demo-ata', ownerId: 'demo', password: 'demo-ata-pw', accountType: 4, callAheadMode: 'dynamic' }),
  });
  say(`POST /ata/accounts {"name":"demo-ata","ownerId":"demo",…} as the operator (ata.adminUsers) -> ${created.status}`);
  const ask = (kind: 'auth' | 'acct', attributes: RequestAttributes) =>
    radclient({ dictionaryDir: ata.dictionaries.radclientDir, port: kind === 'auth' ? ata.authPort : ata.acctPort, kind, attributes });
  const callAhead = async (session: string) =>
    (
      await ask('auth', [
        ['FB-Command', 'Get-Call-Ahead-Mode'],
        ['FB-Context', 'Pre-Send-Session'],
        ['User-Name', '2025550143'],
        ['Acct-Session-Id', session],
      ])
    ).get('FB-Call-Ahead-Mode');
  const session = 'b5884d75-ad74-4164-b4dd-aab8f5de542a';
  say(`Get-Call-Ahead-Mode for 2025550143 before any fax: ${await callAhead(session)} (the ATA probes the number first)`);
  const common: RequestAttributes = [
    ['Acct-Session-Id', session],
    ['User-Name', 'DEMO-ATA'],
    ['FB-Dial-Number', '2025550143'],
    ['FB-Is-Send', 'Send'],
  ];
  const stop: RequestAttributes = [
    ['Acct-Status-Type', 'Stop'],
    ...common,
    ['FB-CDR-Type', 'Realtime'],
    ['FB-Page-Count', 2],
    ['FB-Remote-CSID', 'ACME LEGAL'],
    ['FB-Fax-Error-Code', 0],
    ['FB-Called-Number-Result', 'Success'],
    ['FB-Connect-BPS', 14400],
  ];
  for (const [label, attributes] of [
    ['Start', [['Acct-Status-Type', 'Start'], ...common, ['FB-CDR-Type', 'Realtime']]],
    ['Alive (2 pages, remote CSID)', [['Acct-Status-Type', 'Interim-Update'], ...common, ['FB-Page-Count', 2], ['FB-Remote-CSID', 'ACME LEGAL']]],
    ['Stop (error 0: sent)', stop],
    ['Stop again (resent by the port server)', [...stop, ['Acct-Delay-Time', 4]]],
  ] as Array<[string, RequestAttributes]>) {
    const reply = await ask('acct', attributes);
    say(`Accounting-Request ${label} -> ${reply.code ?? 'no reply'}`);
  }
  const mail = await eventually(() => stack.smtp.mails.find((m) => m.subject === 'Delivered: +12025550143'), 60_000);
  say(`Get-Call-Ahead-Mode for 2025550143 after it received a fax: ${await callAhead('after-1')} (no probe needed)`);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const emails = stack.smtp.mails.filter((m) => m.subject === 'Delivered: +12025550143').length;
  say(`\nThe owner's email about it (${emails} email${emails === 1 ? '' : 's'} for two Stops):\nSubject: ${mail.subject}\n`);
  say(typeof mail.text === 'string' ? mail.text.trim() : '');
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
