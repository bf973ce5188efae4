import type { Database } from '@faxnotify/kit';
import { recordConfirmedAddress } from '../confirmations/store';
import { SendLedger, type LedgerEntry } from '../ledger';
import { openTestDatabase } from '../ledger.suite';
import type { NotifierDatabase } from '../schema';
import { SettingsStore } from '../settings';
import { ConversationStore } from './store';

/**
 * Who a Jabber address belongs to, the last notice's fax and the mute, with a clock the tests set:
 * run by store.test.ts on the embedded SQLite file and by store.int.test.ts on PostgreSQL.
 */

let database: Database<NotifierDatabase>;
let drop: () => Promise<void>;
let now: Date;
let store: ConversationStore;
let settings: SettingsStore;
let ledger: SendLedger;

const saveJid = async (userId: string, jid: string) => {
  const saved = await settings.update(userId, {
    email: { enabled: false, address: null },
    sms: { enabled: false, number: null },
    xmpp: { enabled: true, jid },
    locale: 'en',
    timeZone: 'UTC',
  });
  if ('error' in saved) throw new Error(saved.error.message);
};
const entry = (faxId: string, ownerId: string, resultId = `${faxId}:r1`): LedgerEntry => ({
  resultId,
  channel: 'xmpp',
  faxId,
  recipientId: 'r1',
  ownerId,
  address: 'olga@localhost',
  locale: 'en',
  noticeId: `notice-${resultId}`,
});

export const describeConversationStore = (dialect: 'sqlite' | 'postgres'): void =>
  describe(`Jabber conversations on ${dialect}`, () => {
    beforeEach(async () => {
      ({ database, drop } = await openTestDatabase(dialect));
      now = new Date('2026-12-07T10:00:00.000Z');
      store = new ConversationStore(database.db, () => now);
      settings = new SettingsStore(database.db, { locale: 'en', timeZone: 'UTC' });
      ledger = new SendLedger(database.db, 30_000, () => now);
    });

    afterEach(async () => {
      await database?.close();
      await drop?.();
    });

    it('knows an address only as the saved and confirmed Jabber address of its owner', async () => {
      await saveJid('olga', 'olga@localhost');
      expect(await store.ownerOf('olga@localhost')).toBeUndefined();
      await recordConfirmedAddress(database.db, { userId: 'olga', channel: 'xmpp', address: 'olga@localhost' });
      expect(await store.ownerOf('olga@localhost')).toEqual({ ownerId: 'olga', lastFaxId: null, mutedUntil: null });
      // Confirmed once, then replaced by another address: the old one is nobody's any more.
      await saveJid('olga', 'olga@elsewhere');
      expect(await store.ownerOf('olga@localhost')).toBeUndefined();
      expect(await store.ownerOf('mallory@localhost')).toBeUndefined();
    });

    it('remembers the fax of the last Jabber notice sent to the address, not a received fax nor a code', async () => {
      await saveJid('olga', 'olga@localhost');
      await recordConfirmedAddress(database.db, { userId: 'olga', channel: 'xmpp', address: 'olga@localhost' });
      for (const faxId of ['fax-1', 'fax-2']) {
        await ledger.claim(entry(faxId, 'olga'));
        await store.recordNotice(`notice-${faxId}:r1`, 'olga@localhost');
      }
      await ledger.claim(entry('rx-1', 'olga', 'received/rx-1'));
      await store.recordNotice('notice-received/rx-1', 'olga@localhost');
      await store.recordNotice('a-confirmation-code', 'olga@localhost');
      expect((await store.ownerOf('olga@localhost'))?.lastFaxId).toBe('fax-2');
    });

    it('mutes until a time, shows it in the settings the notices read, and lets held notices go when lifted', async () => {
      await saveJid('olga', 'olga@localhost');
      const until = new Date('2026-12-07T12:00:00.000Z');
      await store.setMute('olga', 'olga@localhost', until);
      expect(await store.mutedUntil('olga', 'olga@localhost')).toEqual(until);
      expect((await settings.get('olga'))?.xmppMutedUntil).toEqual(until);
      await ledger.hold(entry('fax-3', 'olga'), until, '{}');
      expect(await ledger.dueHeld(10)).toEqual([]);

      now = new Date('2026-12-07T10:30:00.000Z');
      await store.setMute('olga', 'olga@localhost', null);
      expect(await store.mutedUntil('olga', 'olga@localhost')).toBeNull();
      expect((await settings.get('olga'))?.xmppMutedUntil).toBeUndefined();
      expect((await ledger.dueHeld(10)).map((row) => row.fax_id)).toEqual(['fax-3']);
    });

    it('is over by itself once its time has passed', async () => {
      await store.setMute('olga', 'olga@localhost', new Date('2026-12-07T10:05:00.000Z'));
      now = new Date('2026-12-07T10:06:00.000Z');
      expect(await store.mutedUntil('olga', 'olga@localhost')).toBeNull();
    });
  });
