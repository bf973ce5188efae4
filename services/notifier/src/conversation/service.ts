import { createHash, randomUUID } from 'node:crypto';
import { Counter } from 'prom-client';
import type { Locale } from '@faxnotify/contracts';
import { errorMessage, plainText, type Logger, type MessageBus, type RateLimiter } from '@faxnotify/kit';
import type { IncomingChat } from '../channels/xmpp/adapter';
import type { SettingsStore } from '../settings';
import { parseCommand, type Command } from './commands';
import type { ConversationStore, ConversationOwner } from './store';
import { CONVERSATION_STRINGS, type ConversationStrings } from './strings';
import type { TrackerClient } from './tracker';

const commandsCounter = new Counter({
  name: 'faxnotify_xmpp_commands_total',
  help: "Jabber messages to the service's account: answered commands of owners (by command), refused over the rate limit, and messages from addresses that are no owner's verified Jabber address (ignored).",
  labelNames: ['result'],
});

/** A subject as a `status` line shows it: plain, on one line, bounded. */
const SUBJECT_CHARS = 60;

export interface JabberConversationOptions {
  store: ConversationStore;
  tracker: TrackerClient;
  settings: SettingsStore;
  bus: Pick<MessageBus, 'publish'>;
  /** Sends an answer to a JID (XmppAdapter.reply). */
  reply: (to: string, text: string, locale: Locale) => Promise<void>;
  /** Commands per JID in a window (rateLimits.xmppCommands); none when absent. */
  limits?: { limiter: RateLimiter; max: number; windowSeconds: number };
  logger: Logger;
  now?: () => Date;
}

/**
 * Jabber as a conversation: an owner answers a notice from their verified Jabber address with
 * `status`, `resend`, `mute 2h`, `unmute` or `help`, and gets the answer in their language.
 * Messages from any other address are ignored (no answer, so nobody learns which addresses are
 * known) and counted; commands are rate-limited per address. Nothing the sender typed is repeated.
 */
export class JabberConversation {
  /** Messages ignored because their address is no owner's verified Jabber address (also faxnotify_xmpp_commands_total{result="stranger"}). */
  strangers = 0;
  private readonly now: () => Date;

  constructor(private readonly options: JabberConversationOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async handle(chat: IncomingChat): Promise<void> {
    const { logger } = this.options;
    const owner = await this.options.store.ownerOf(chat.from);
    if (!owner) {
      this.strangers += 1;
      commandsCounter.inc({ result: 'stranger' });
      logger.info({ from: chat.from, strangers: this.strangers }, 'Jabber message from an address that is no owner’s verified one: ignored');
      return;
    }
    const settings = await this.options.settings.get(owner.ownerId);
    const locale: Locale = settings?.locale ?? 'en';
    const timeZone = settings?.timeZone ?? 'UTC';
    const strings = CONVERSATION_STRINGS[locale];
    const answer = (text: string) => this.options.reply(chat.from, text, locale);

    const limits = this.options.limits;
    if (limits && limits.max > 0) {
      const rule = { name: 'xmpp-commands', max: limits.max, windowSeconds: limits.windowSeconds, what: 'Jabber commands', per: 'Jabber address' };
      if (!(await limits.limiter.hit(rule, chat.from)).allowed) {
        commandsCounter.inc({ result: 'rate_limited' });
        logger.info({ ownerId: owner.ownerId }, 'Jabber command over the rate limit');
        await answer(strings.rateLimited);
        return;
      }
    }
    const command = parseCommand(chat.body);
    commandsCounter.inc({ result: command.kind });
    logger.info({ ownerId: owner.ownerId, command: command.kind }, 'Jabber command');
    await answer(await this.run(command, chat, owner, strings, locale, timeZone));
  }

  private async run(
    command: Command,
    chat: IncomingChat,
    owner: ConversationOwner,
    strings: ConversationStrings,
    locale: Locale,
    timeZone: string,
  ): Promise<string> {
    switch (command.kind) {
      case 'help':
        return strings.help;
      case 'unknown':
        return `${strings.unknown}\n\n${strings.help}`;
      case 'bad-duration':
        return strings.badDuration;
      case 'bad-fax-id':
        return strings.badFaxId;
      case 'status':
        return this.status(owner.ownerId, strings);
      case 'resend':
        return this.resend(chat, owner, command.faxId, strings);
      case 'mute': {
        const until = new Date(this.now().getTime() + command.minutes * 60_000);
        await this.options.store.setMute(owner.ownerId, chat.from, until);
        const shown = new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'short', timeZone }).format(until);
        return `${strings.muted(shown)} ${strings.mutedHeld}`;
      }
      case 'unmute': {
        const was = await this.options.store.mutedUntil(owner.ownerId, chat.from);
        await this.options.store.setMute(owner.ownerId, chat.from, null);
        return was ? strings.unmuted : strings.notMuted;
      }
    }
  }

  private async status(ownerId: string, strings: ConversationStrings): Promise<string> {
    try {
      const { faxes, more } = await this.options.tracker.inProgress(ownerId);
      if (faxes.length === 0) return strings.noneInProgress;
      return strings.inProgress(
        faxes.map((fax) => ({
          id: fax.id,
          subject: oneLine(fax.subject),
          total: fax.recipients?.total ?? 0,
          final: fax.recipients?.final ?? 0,
        })),
        more,
      );
    } catch (error) {
      this.options.logger.warn({ err: errorMessage(error), ownerId }, 'could not read the faxes in progress for a Jabber status');
      return strings.statusUnavailable;
    }
  }

  private async resend(chat: IncomingChat, owner: ConversationOwner, named: string | undefined, strings: ConversationStrings): Promise<string> {
    const faxId = named ?? owner.lastFaxId;
    if (!faxId) return strings.noNoticeYet;
    let fax: { state: string; failed: number } | undefined;
    try {
      fax = await this.options.tracker.ownFax(owner.ownerId, faxId);
    } catch (error) {
      this.options.logger.warn({ err: errorMessage(error), ownerId: owner.ownerId }, 'could not read the fax for a Jabber resend');
      return strings.resendUnavailable;
    }
    if (!fax) return strings.notYourFax;
    if (fax.state === 'in_progress') return strings.notFinal(faxId);
    if (fax.failed === 0) return strings.nothingFailed(faxId);
    // The same message again (a client's retransmission keeps its stanza id) asks for the same resend.
    const requestId = `xmpp-${createHash('sha256')
      .update(`${chat.from}\n${chat.id ?? randomUUID()}\n${faxId}`)
      .digest('hex')
      .slice(0, 40)}`;
    try {
      await this.options.bus.publish(
        'fax.resend.requested',
        { faxId, ownerId: owner.ownerId, onlyMissingPages: false, requestedVia: 'xmpp', requestId },
        { id: requestId, subject: `fax/${faxId}` },
      );
    } catch (error) {
      this.options.logger.warn({ err: errorMessage(error), ownerId: owner.ownerId, faxId }, 'could not publish a Jabber resend request');
      return strings.resendUnavailable;
    }
    this.options.logger.info({ ownerId: owner.ownerId, faxId, requestId }, 'resend requested by Jabber');
    return strings.resendRequested(faxId, fax.failed);
  }
}

const oneLine = (text: string): string => plainText(text, SUBJECT_CHARS);
