import type { Kysely } from 'kysely';
import type { NotifierDatabase } from '../schema';

/** The owner whose verified Jabber address wrote, with what the conversation knows of them there. */
export interface ConversationOwner {
  ownerId: string;
  lastFaxId: string | null;
  mutedUntil: Date | null;
}

/**
 * What Jabber conversations keep in the notifier's database: who a verified address belongs to
 * (the owner's saved JID, confirmed by them), the fax of the last Jabber notice sent there, and
 * the owner's mute.
 */
export class ConversationStore {
  constructor(
    private readonly db: Kysely<NotifierDatabase>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * The owner for whom this bare JID is the saved Jabber address and a confirmed one; undefined for
   * any other address. Should two owners have confirmed the same address, the one who changed
   * their settings last answers.
   */
  async ownerOf(jid: string): Promise<ConversationOwner | undefined> {
    const row = await this.db
      .selectFrom('settings')
      .innerJoin('confirmed_addresses', (join) =>
        join
          .onRef('confirmed_addresses.user_id', '=', 'settings.user_id')
          .on('confirmed_addresses.channel', '=', 'xmpp')
          .onRef('confirmed_addresses.address', '=', 'settings.xmpp_jid'),
      )
      .leftJoin('jabber_conversations', (join) =>
        join.onRef('jabber_conversations.owner_id', '=', 'settings.user_id').onRef('jabber_conversations.jid', '=', 'settings.xmpp_jid'),
      )
      .select(['settings.user_id as ownerId', 'jabber_conversations.last_fax_id as lastFaxId', 'jabber_conversations.muted_until as mutedUntil'])
      .where('settings.xmpp_jid', '=', jid)
      .orderBy('settings.updated_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row) return undefined;
    return { ownerId: row.ownerId, lastFaxId: row.lastFaxId ?? null, mutedUntil: row.mutedUntil ? new Date(row.mutedUntil) : null };
  }

  /** After a Jabber notice went out: the fax it was about becomes what a bare `resend` there means. */
  async recordNotice(noticeId: string, jid: string): Promise<void> {
    const ledger = await this.db
      .selectFrom('ledger')
      .select(['owner_id', 'fax_id', 'result_id'])
      .where('notice_id', '=', noticeId)
      .where('channel', '=', 'xmpp')
      .executeTakeFirst();
    // Confirmation codes have no ledger row; notices of received faxes are about no fax that can be resent.
    if (!ledger || ledger.result_id.startsWith('received/')) return;
    const at = this.now().toISOString();
    await this.upsert(ledger.owner_id, jid, { last_fax_id: ledger.fax_id, last_notice_id: noticeId, last_noticed_at: at });
  }

  /**
   * Mutes (a time) or unmutes (null) the owner's Jabber notices at this address. Notices held by
   * the mute fall due at once when it is lifted (quiet hours, if they are on, still hold them).
   */
  async setMute(ownerId: string, jid: string, until: Date | null): Promise<void> {
    await this.upsert(ownerId, jid, { muted_until: until ? until.toISOString() : null });
    if (until) return;
    const now = this.now().toISOString();
    await this.db
      .updateTable('ledger')
      .set({ not_before: now })
      .where('owner_id', '=', ownerId)
      .where('channel', '=', 'xmpp')
      .where('status', '=', 'held')
      .where('not_before', '>', now)
      .execute();
  }

  /** Until when the owner's Jabber notices at this address are muted (null: they are not). */
  async mutedUntil(ownerId: string, jid: string): Promise<Date | null> {
    const row = await this.db
      .selectFrom('jabber_conversations')
      .select('muted_until')
      .where('owner_id', '=', ownerId)
      .where('jid', '=', jid)
      .executeTakeFirst();
    const until = row?.muted_until ? new Date(row.muted_until) : null;
    return until && until > this.now() ? until : null;
  }

  private async upsert(
    ownerId: string,
    jid: string,
    values: Partial<Pick<NotifierDatabase['jabber_conversations'], 'last_fax_id' | 'last_notice_id' | 'last_noticed_at' | 'muted_until'>>,
  ): Promise<void> {
    const updated_at = this.now().toISOString();
    await this.db
      .insertInto('jabber_conversations')
      .values({ owner_id: ownerId, jid, last_fax_id: null, last_notice_id: null, last_noticed_at: null, muted_until: null, ...values, updated_at })
      .onConflict((oc) => oc.columns(['owner_id', 'jid']).doUpdateSet({ ...values, updated_at }))
      .execute();
  }
}
