import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, openDatabase, type Database } from '@faxnotify/kit';
import type { Channel, ChannelAdapter } from '../channels/types';
import { notifierMigrations, type NotifierDatabase } from '../schema';
import { SettingsStore } from '../settings';
import { ChannelConfirmations } from './service';
import { ConfirmationStore } from './store';

/** Which addresses the send path lets through, and the refusals that need no provider (SQLite, no peer). */

const POLICY = { codeTtlMs: 900_000, codeIntervalMs: 60_000, codesPerHour: 5, codeMaxAttempts: 5 };
let dir: string;
let database: Database<NotifierDatabase>;
let settings: SettingsStore;
let store: ConfirmationStore;

const confirmations = (required: boolean, adapters: ReadonlyMap<Channel, ChannelAdapter> = new Map()) =>
  new ChannelConfirmations({
    store,
    settings,
    adapters,
    policy: POLICY,
    required,
    settingsUrlTemplate: 'http://127.0.0.1:8083/settings',
    messageIdDomain: 'faxnotify.test',
    logger: createLogger('confirmations-test', 'silent'),
  });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'notifier-confirmations-'));
  database = await openDatabase<NotifierDatabase>({
    service: 'notifier',
    url: '',
    sqlitePath: join(dir, 'notifier.sqlite'),
    migrations: notifierMigrations,
    logger: createLogger('confirmations-test', 'silent'),
  });
  settings = new SettingsStore(database.db, { locale: 'en', timeZone: 'UTC' });
  store = new ConfirmationStore(database.db, POLICY, 'service-test-secret');
  await settings.save('ann', {
    email: { enabled: true, address: 'ann@example.test', results: 'all', attachReport: false },
    sms: { enabled: true, number: '+393331234567', results: 'all', quietHours: null },
    xmpp: { enabled: false, jid: null, results: 'all', quietHours: null },
    locale: 'en',
    timeZone: 'UTC',
    notifyOn: 'all',
    notifyInbound: 'on',
    summary: { mode: 'auto', threshold: 5, channels: ['email', 'sms', 'xmpp'] },
  });
});

afterEach(async () => {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

it('lets through only confirmed addresses when confirmation is required, every address when it is not', async () => {
  await store.markConfirmed('ann', 'email', 'ann@example.test');
  const saved = await settings.current('ann');
  const required = await confirmations(true).sendable('ann', saved);
  expect(required('email', 'ann@example.test')).toBe(true);
  expect(required('email', 'other@example.test')).toBe(false);
  expect(required('sms', '+393331234567')).toBe(false);
  const notRequired = await confirmations(false).sendable('ann', saved);
  expect(notRequired('sms', '+393331234567')).toBe(true);
  expect(confirmations(false).required).toBe(false);
});

it('sees an address confirmed after an earlier look found it unconfirmed (only confirmations are remembered)', async () => {
  const service = confirmations(true);
  const saved = await settings.current('ann');
  expect((await service.sendable('ann', saved))('sms', '+393331234567')).toBe(false);
  await store.markConfirmed('ann', 'sms', '+393331234567');
  const after = await service.sendable('ann', saved);
  expect(after('sms', '+393331234567')).toBe(true);
  // Another user's confirmation of the same number is not ann's.
  await store.markConfirmed('bob', 'email', 'ann@example.test');
  expect((await service.sendable('ann', saved))('email', 'ann@example.test')).toBe(false);
});

it('asks the database once for an owner whose enabled addresses are all confirmed, then no more', async () => {
  await store.markConfirmed('ann', 'email', 'ann@example.test');
  await store.markConfirmed('ann', 'sms', '+393331234567');
  const service = confirmations(true);
  const saved = await settings.current('ann');
  const lookups = jest.spyOn(store, 'confirmedKeys');
  for (let i = 0; i < 100; i++) expect((await service.sendable('ann', saved))('sms', '+393331234567')).toBe(true);
  expect(lookups).toHaveBeenCalledTimes(1);
  lookups.mockRestore();
});

it('refuses a code for a channel without an address, without an adapter, or already confirmed, before counting a send', async () => {
  const service = confirmations(true);
  expect(await service.sendCode('ann', 'xmpp')).toEqual({ kind: 'no_address' });
  expect(await service.sendCode('ann', 'sms')).toEqual({ kind: 'unavailable' });
  await store.markConfirmed('ann', 'sms', '+393331234567');
  const adapters = new Map<Channel, ChannelAdapter>([
    ['sms', { channel: 'sms', send: () => Promise.reject(new Error('not to be called')), close: async () => {} }],
  ]);
  expect(await confirmations(true, adapters).sendCode('ann', 'sms')).toEqual({ kind: 'already_confirmed', address: '+393331234567' });
  // None of these counted towards the limits.
  expect((await store.status('ann', 'sms', '+393331234567')).nextCodeAt).toBeNull();
  expect(await service.confirm('ann', 'email', '12345')).toEqual({ kind: 'bad_code' });
  expect(await service.confirm('ann', 'xmpp', '123456')).toEqual({ kind: 'no_address' });
});

it('shows each channel with its address, confirmed or not, and whether this notifier sends on it', async () => {
  await store.markConfirmed('ann', 'email', 'ann@example.test');
  const view = await confirmations(true, new Map([['email', {} as ChannelAdapter]])).view('ann');
  expect(view).toEqual({
    required: true,
    channels: {
      email: { address: 'ann@example.test', available: true, confirmed: true, codePending: false, codeExpiresAt: null, nextCodeAt: null },
      sms: { address: '+393331234567', available: false, confirmed: false, codePending: false, codeExpiresAt: null, nextCodeAt: null },
      xmpp: { address: null, available: false, confirmed: false, codePending: false, codeExpiresAt: null, nextCodeAt: null },
    },
  });
});
