/**
 * What a fax summary asks of the send ledger, with the notifier's real stores (send ledger,
 * settings, confirmed addresses) on SQLite and PostgreSQL, all three adapters set up as in
 * production, a real SMTP server, RabbitMQ and Twilio endpoint: a summary the owner does not ask
 * for on a channel has no ledger row, and a fax whose owner gets no summary does not touch the ledger.
 */
import { createEvent, type DeliveryFaxFinal } from '@faxnotify/contracts';
import { createLogger, type Database } from '@faxnotify/kit';
import { SendLedger } from '../ledger';
import { POSTGRES, openTestDatabase } from '../ledger.suite';
import type { NotifierDatabase } from '../schema';
import { startInProcessNotifier, type InProcessNotifier } from '../testing/in-process';
import { FaxSummaries, summaryResultId } from './notices';
import { faxFinal } from './testing';

jest.setTimeout(30_000);

const dialects = POSTGRES === 'none' ? (['sqlite'] as const) : (['sqlite', 'postgres'] as const);
const logger = createLogger('summary-ledger', 'silent');

/** The send ledger's methods the notifier calls, in order, recorded around a real ledger. */
function recordedLedger(ledger: SendLedger): { ledger: SendLedger; taken: () => string[] } {
  let calls: string[] = [];
  const recorded = new Proxy(ledger, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    ledger: recorded,
    taken: () => {
      const taken = calls;
      calls = [];
      return taken;
    },
  };
}

describe.each(dialects)('fax summaries and the send ledger on %s', (dialect) => {
  let database: Database<NotifierDatabase>;
  let drop: () => Promise<void>;
  let running: InProcessNotifier;
  let ledger: SendLedger;
  let summaries: FaxSummaries;
  let ledgerCalls: () => string[];

  beforeAll(async () => {
    ({ database, drop } = await openTestDatabase(dialect));
    const recorder = recordedLedger(new SendLedger(database.db, 30_000, undefined, { id: 'worker-summary-ledger', leaseMs: 5_000 }));
    ({ ledger, taken: ledgerCalls } = recorder);
    // All three channels set up; alice has email only, with the default summary choice (auto above 5, every channel).
    running = await startInProcessNotifier({ name: `summary-ledger-${dialect}`, database, ledger, logger });
    summaries = new FaxSummaries({ ...running.deps, notifier: running.notifier });
  });

  afterAll(async () => {
    await running?.close();
    await database?.close();
    await drop?.();
  });

  const handle = (fax: DeliveryFaxFinal) =>
    summaries.handle(createEvent('delivery.fax.final', fax, { source: '/faxnotify/status-tracker' }), { lastAttempt: false });
  const rowsOf = (faxId: string) => Promise.all((['email', 'sms', 'xmpp'] as const).map((channel) => ledger.get(summaryResultId(faxId), channel)));
  const summariesToAlice = () => running.smtp.mails.filter((m) => /\(\d+\/\d+\)$/.test(m.subject ?? ''));

  it('writes one row, the email one, for a summary on every channel of an owner with email only', async () => {
    await handle(faxFinal('stmt-sum-8', 8));
    // The email's row claimed, then marked sent; SMS and Jabber are off: nothing asked of the ledger for them.
    expect(ledgerCalls()).toEqual(['claim', 'markSent']);
    const [email, sms, xmpp] = await rowsOf('stmt-sum-8');
    expect(email).toMatchObject({ status: 'sent', sends: 1, recipient_id: '(summary)' });
    expect([sms, xmpp]).toEqual([undefined, undefined]);
    expect(summariesToAlice()).toHaveLength(1);
  });

  it('does not touch the ledger for a fax whose owner gets no summary', async () => {
    ledgerCalls();
    // Five recipients are not more than five: alice gets a notice per recipient instead.
    await handle(faxFinal('stmt-sum-5', 5));
    expect(ledgerCalls()).toEqual([]);
    expect(await rowsOf('stmt-sum-5')).toEqual([undefined, undefined, undefined]);
    expect(summariesToAlice()).toHaveLength(1);
  });
});
