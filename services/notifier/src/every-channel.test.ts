/**
 * deliverOnEveryChannel: one event's notices go out on all channels at once, read on the owner's
 * saved settings (a real settings store on SQLite); a channel failing transiently does not stop
 * the others and makes the event be tried again, any other error is thrown once all are done.
 */
import { RetryableError, createLogger, type Database } from '@faxnotify/kit';
import { CHANNELS, ChannelError, type Channel } from './channels/types';
import { loadNotifierConfig } from './config';
import { ChannelConfirmations } from './confirmations/service';
import { ConfirmationStore } from './confirmations/store';
import { openTestDatabase } from './ledger.suite';
import { deliverOnEveryChannel } from './notifier';
import type { NotifierDatabase } from './schema';
import { SettingsStore } from './settings';

let database: Database<NotifierDatabase>;
let drop: () => Promise<void>;
let deps: Parameters<typeof deliverOnEveryChannel>[0];

beforeAll(async () => {
  ({ database, drop } = await openTestDatabase('sqlite'));
  const settings = new SettingsStore(database.db, { locale: 'en', timeZone: 'UTC' });
  await settings.save('alice', { ...settings.defaultsFor(), email: { enabled: true, address: 'alice@example.test', results: 'all', attachReport: false } });
  const policy = loadNotifierConfig({}, {}).channels;
  const confirmations = new ChannelConfirmations({
    store: new ConfirmationStore(database.db, policy, 'every-channel-secret'),
    settings,
    adapters: new Map(),
    policy,
    required: false,
    settingsUrlTemplate: 'http://127.0.0.1/settings',
    messageIdDomain: 'faxnotify.test',
    logger: createLogger('every-channel', 'silent'),
  });
  deps = { settings, confirmations };
});

afterAll(async () => {
  await database?.close();
  await drop?.();
});

/** Resolves once every channel has started: a channel waiting on it finishes only if the channels run at once. */
function allStarted(): { started: (channel: Channel) => Promise<void> } {
  const seen = new Set<Channel>();
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return {
    started: async (channel) => {
      seen.add(channel);
      if (seen.size === CHANNELS.length) release();
      let timer: NodeJS.Timeout | undefined;
      const alone = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${channel} waited alone: channels ran one after another`)), 2_000)));
      await Promise.race([all, alone]).finally(() => clearTimeout(timer));
    },
  };
}

it("delivers on every channel at once, on the owner's settings", async () => {
  const barrier = allStarted();
  const done: string[] = [];
  await deliverOnEveryChannel(deps, 'alice', async (channel, settings, sendable) => {
    await barrier.started(channel);
    done.push(`${channel} ${settings?.email.address} ${sendable(channel, 'alice@example.test')}`);
  });
  expect(done.sort()).toEqual(['email alice@example.test true', 'sms alice@example.test true', 'xmpp alice@example.test true']);
});

it('finishes the other channels when one fails transiently, then asks for the event again', async () => {
  const barrier = allStarted();
  const done: Channel[] = [];
  const delivery = deliverOnEveryChannel(deps, 'alice', async (channel) => {
    await barrier.started(channel);
    if (channel === 'sms') throw new ChannelError('Twilio 503', true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    done.push(channel);
  });
  await expect(delivery).rejects.toThrow(RetryableError);
  await expect(delivery).rejects.toThrow('Twilio 503');
  expect(done.sort()).toEqual(['email', 'xmpp']);
});

it('throws an error that is not transient once every channel is done, rather than trying again', async () => {
  const done: Channel[] = [];
  const delivery = deliverOnEveryChannel(deps, 'alice', async (channel) => {
    if (channel === 'email') throw new Error('ledger schema is broken');
    if (channel === 'sms') throw new ChannelError('Twilio 503', true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    done.push(channel);
  });
  await expect(delivery).rejects.toThrow('ledger schema is broken');
  await expect(delivery).rejects.not.toThrow(RetryableError);
  expect(done).toEqual(['xmpp']);
});
