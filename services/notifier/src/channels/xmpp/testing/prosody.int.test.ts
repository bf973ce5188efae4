import { startProsody, type ProsodyServer } from './prosody';
import { connectXmppClient, type XmppTestClient } from './xmpp-client';

describe('Prosody test server', () => {
  let prosody: ProsodyServer;
  const clients: XmppTestClient[] = [];
  const connect = async (username: string, password: string, answerReceipts = true) => {
    const client = await connectXmppClient({ service: prosody.service, domain: prosody.domain, username, password, answerReceipts });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    prosody = await startProsody({
      users: [
        { username: 'owner', password: 'owner-secret' },
        { username: 'faxnotify', password: 'service-secret' },
      ],
    });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.stop()));
  });

  afterAll(async () => {
    await prosody?.stop();
  });

  it('listens on its own loopback port with its own data folder', () => {
    expect(prosody.port).toBeGreaterThan(0);
    expect(prosody.port).not.toBe(5222);
    expect(prosody.jid('owner')).toBe('owner@localhost');
    expect(prosody.dataDir).toContain('faxnotify-prosody-');
    expect(prosody.running).toBe(true);
  });

  it('delivers a chat message between two users and carries the receipt back', async () => {
    const service = await connect('faxnotify', 'service-secret');
    const owner = await connect('owner', 'owner-secret');
    const id = await service.sendChat(owner.jid, 'Fax to +39 06 1234567: delivered <3 pages> & "done"', { requestReceipt: true });

    const [message] = await owner.waitForMessages(1);
    expect(message).toMatchObject({
      id,
      type: 'chat',
      body: 'Fax to +39 06 1234567: delivered <3 pages> & "done"',
      receiptRequested: true,
      delayStamp: undefined,
    });
    expect(message.from.startsWith('faxnotify@localhost/')).toBe(true);
    expect(message.xml).toContain('&lt;3 pages&gt; &amp;');

    await waitUntil(() => service.receipts.some((receipt) => receipt.id === id));
    expect(owner.errors).toEqual([]);
    expect(service.errors).toEqual([]);
  });

  it('refuses a wrong password', async () => {
    await expect(connectXmppClient({ service: prosody.service, domain: prosody.domain, username: 'owner', password: 'wrong' })).rejects.toThrow(
      /owner@localhost/,
    );
  });

  it('stores a message to an offline user and delivers it with a delay stamp on login', async () => {
    await prosody.register('offline-owner', 'later');
    const service = await connect('faxnotify', 'service-secret');
    const id = await service.sendChat(prosody.jid('offline-owner'), 'Доставлено: 2 страницы', { requestReceipt: true });
    // Give the server time to store it before the user logs in.
    await new Promise((resolve) => setTimeout(resolve, 200));

    const owner = await connect('offline-owner', 'later');
    const [message] = await owner.waitForMessages(1);
    expect(message).toMatchObject({ id, body: 'Доставлено: 2 страницы', receiptRequested: true });
    expect(message.delayStamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    await waitUntil(() => service.receipts.some((receipt) => receipt.id === id));
  });

  it('restarts on the same port and data; clients reconnect and messages still arrive once', async () => {
    const service = await connect('faxnotify', 'service-secret');
    const owner = await connect('owner', 'owner-secret');
    await service.sendChat(owner.jid, 'before restart');
    await owner.waitForMessages(1);

    await prosody.restart();
    expect(prosody.running).toBe(true);

    await service.waitOnline(15_000);
    await owner.waitOnline(15_000);
    expect(service.onlineCount).toBeGreaterThanOrEqual(2);
    await service.sendChat(owner.jid, 'after restart');
    const messages = await owner.waitForMessages(2);
    expect(messages.map((message) => message.body)).toEqual(['before restart', 'after restart']);
  });

  it('keeps the offline store across an outage longer than one reconnect attempt', async () => {
    await prosody.register('away', 'away-secret');
    const service = await connect('faxnotify', 'service-secret');
    await service.sendChat(prosody.jid('away'), 'stored before the outage');
    await new Promise((resolve) => setTimeout(resolve, 200));

    await prosody.down();
    expect(prosody.running).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await prosody.up();

    await service.waitOnline(15_000);
    const away = await connect('away', 'away-secret');
    const [message] = await away.waitForMessages(1);
    expect(message).toMatchObject({ body: 'stored before the outage' });
    expect(message.delayStamp).toBeDefined();
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
