import { eventually } from '@faxnotify/peers';
import { receivedResultId } from './inbound';
import { settingsFor, useChannelPeers } from './testing/channels';
import { receivedFax } from './testing/notices';

/** Notices of received faxes on all three channels against real peers: the SMTP sink, the Twilio-compatible endpoint and Prosody. */

const peers = useChannelPeers('notifier-inbound-channels', ['rita', 'tina']);
const { smsTo, mailsTo, chatsFor } = peers;
const ledgerRow = (receivedId: string, channel: string) => peers.notifier.ledger.get(receivedResultId(receivedId), channel);

beforeAll(async () => {
  await peers.saveConfirmed('rita', { email: 'rita@example.test', sms: '+79161234568', xmpp: 'rita@localhost', locale: 'ru' });
  await peers.saveConfirmed('tina', { email: 'tina@example.test', sms: '+393331234599', xmpp: 'tina@localhost', locale: 'it' });
  const off = await peers.api('PUT', '/v1/settings', 'tina', {
    ...settingsFor({ email: 'tina@example.test', sms: '+393331234599', xmpp: 'tina@localhost', locale: 'it' }),
    notifyInbound: 'off',
  });
  expect(off.status).toBe(200);
}, 30_000);

it("sends one email, one SMS and one Jabber message about a received fax in the owner's language, once", async () => {
  const event = receivedFax('rx-rita-1', { ownerId: 'rita', status: 'partially_received', pagesReceived: 2 });
  await peers.bus.publish('delivery.fax.received', event);
  await eventually(
    async () => (await Promise.all(['email', 'sms', 'xmpp'].map((c) => ledgerRow('rx-rita-1', c)))).every((row) => row?.status === 'sent'),
    15_000,
  );

  expect(mailsTo('rita@example.test').map((m) => m.subject)).toEqual(['Факс от +390612345678 (ACME SALES FAX) принят частично']);
  const [sms] = smsTo('+79161234568');
  expect(smsTo('+79161234568')).toHaveLength(1);
  expect(sms.body).toBe('Частично принят факс от +390612345678 (ACME SALES FAX)\n2 стр., 22.11, 12:01\nhttp://127.0.0.1:8082/inbox/rx-rita-1');
  expect(sms.segments).toBeLessThanOrEqual(2);
  const chats = await eventually(() => chatsFor('rita').length > 0 && chatsFor('rita'), 10_000);
  expect(chats).toHaveLength(1);
  expect(chats[0].body).toMatch(/^Факс от \+390612345678 \(ACME SALES FAX\) принят частично\nСтатус: Принят частично\. /);
  expect(chats[0].body).toContain('Открыть факс: http://127.0.0.1:8082/inbox/rx-rita-1');

  // The providers' later reports land on the inbound notices' ledger rows.
  await eventually(
    async () =>
      (await ledgerRow('rx-rita-1', 'sms'))?.delivery_status === 'delivered' && (await ledgerRow('rx-rita-1', 'xmpp'))?.delivery_status === 'delivered',
    10_000,
  );

  // Delivered again: nothing more on any channel.
  await peers.bus.publish('delivery.fax.received', event);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(mailsTo('rita@example.test')).toHaveLength(1);
  expect(smsTo('+79161234568')).toHaveLength(1);
  expect(chatsFor('rita')).toHaveLength(1);
  for (const channel of ['email', 'sms', 'xmpp']) expect((await ledgerRow('rx-rita-1', channel))!.sends).toBe(1);
});

it('sends nothing on any channel to an owner who turned inbound notices off', async () => {
  await peers.bus.publish('delivery.fax.received', receivedFax('rx-tina-1', { ownerId: 'tina' }));
  await eventually(
    async () => (await Promise.all(['email', 'sms', 'xmpp'].map((c) => ledgerRow('rx-tina-1', c)))).every((row) => row?.status === 'skipped'),
    15_000,
  );
  for (const channel of ['email', 'sms', 'xmpp']) expect((await ledgerRow('rx-tina-1', channel))!.error).toBe('the owner turned notices of received faxes off');
  expect(mailsTo('tina@example.test')).toHaveLength(0);
  expect(smsTo('+393331234599')).toHaveLength(0);
  expect(chatsFor('tina')).toHaveLength(0);
});
