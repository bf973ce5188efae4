/**
 * How many database statements one result costs the notifier, counted on the notifier's real
 * stores (the send ledger, settings, confirmed addresses) on SQLite and PostgreSQL, with the email,
 * SMS and Jabber adapters set up as in production and a real SMTP server, RabbitMQ and Twilio
 * endpoint. The notifier's CPU under load goes mostly to running and building these statements, so
 * a new one on the path of every result should be a choice, not an accident.
 */
import type { CompiledQuery, RootOperationNode } from 'kysely';
import { createEvent, type DeliveryRecipientFinal } from '@faxnotify/contracts';
import { createLogger, type Database } from '@faxnotify/kit';
import { eventually } from '@faxnotify/peers';
import { SendLedger } from './ledger';
import { POSTGRES, openTestDatabase } from './ledger.suite';
import type { Notifier } from './notifier';
import type { NotifierDatabase } from './schema';
import { startInProcessNotifier, type InProcessNotifier } from './testing/in-process';
import { collectOutcomes, finalResult, type OutcomeCollector } from './testing/notices';

jest.setTimeout(30_000);

const dialects = POSTGRES === 'none' ? (['sqlite'] as const) : (['sqlite', 'postgres'] as const);
const logger = createLogger('notifier-statements', 'silent');

/**
 * Counts the statements run on the database, by kind (select, insert, update, delete), as the
 * driver is handed them: statements built once and run with new values count as much as built ones.
 */
function statementCounter(): { onStatement: (query: CompiledQuery) => void; taken: () => Record<string, number> } {
  let counts: Record<string, number> = {};
  const kinds: Partial<Record<RootOperationNode['kind'], string>> = {
    SelectQueryNode: 'select',
    InsertQueryNode: 'insert',
    UpdateQueryNode: 'update',
    DeleteQueryNode: 'delete',
  };
  return {
    onStatement: ({ query, sql }) => {
      // A transaction's begin and commit are not statements of the notifier's own.
      if (/^(begin|commit|rollback|start transaction)\b/i.test(sql)) return;
      const kind = kinds[query.kind] ?? query.kind;
      counts[kind] = (counts[kind] ?? 0) + 1;
    },
    taken: () => {
      const taken = counts;
      counts = {};
      return taken;
    },
  };
}

describe.each(dialects)('statements per result on %s', (dialect) => {
  let database: Database<NotifierDatabase>;
  let drop: () => Promise<void>;
  let running: InProcessNotifier;
  let collector: OutcomeCollector;
  let notifier: Notifier;
  let ledger: SendLedger;
  const counter = statementCounter();

  beforeAll(async () => {
    ({ database, drop } = await openTestDatabase(dialect, counter.onStatement));
    ledger = new SendLedger(database.db, 30_000, undefined, { id: 'worker-statements', leaseMs: 5_000 });
    // All three channels set up, as the benchmark's notifier has them; the owners here use email only.
    running = await startInProcessNotifier({ name: `notifier-statements-${dialect}`, database, ledger, logger });
    ({ notifier } = running);
    collector = await collectOutcomes(running.vhost.amqpUrl);
  });

  afterAll(async () => {
    await collector?.close();
    await running?.close();
    await database?.close();
    await drop?.();
  });

  const handle = (result: DeliveryRecipientFinal) =>
    notifier.handle(createEvent('delivery.recipient.final', result, { source: '/faxnotify/status-tracker' }), { lastAttempt: false });
  const mailsToAlice = () => running.mailsToAlice();
  const outcomesOf = (faxId: string) =>
    Object.fromEntries(collector.outcomes.filter((o) => o.faxId === faxId).map((o) => [o.channel, `${o.outcome} ${o.attempts}`]));

  it('sends an email-only owner one email and records nothing for the channels they have off, in three statements', async () => {
    // The first result of an owner also reads their confirmed addresses, which this process then remembers.
    await handle(finalResult('stmt-0'));
    counter.taken();

    await handle(finalResult('stmt-1'));
    const counted = counter.taken();
    console.log(`${dialect}: a new result, email only: ${JSON.stringify(counted)}`);
    // The settings; the email's row inserted claimed; the email marked sent. SMS and Jabber are off: no row, no outcome.
    expect(counted).toEqual({ select: 1, insert: 1, update: 1 });
    await eventually(() => Object.keys(outcomesOf('stmt-1')).length === 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(outcomesOf('stmt-1')).toEqual({ email: 'sent 1' });
    expect(await ledger.get('stmt-1:r1', 'sms')).toBeUndefined();
    expect(mailsToAlice()).toHaveLength(2);
  });

  it('sends nothing again for a redelivered result, reading what the ledger has', async () => {
    const before = mailsToAlice().length;
    counter.taken();
    await handle(finalResult('stmt-1'));
    const counted = counter.taken();
    console.log(`${dialect}: the same result again: ${JSON.stringify(counted)}`);
    // The settings; the insert that finds the email's row there, then a read of it.
    expect(counted).toEqual({ select: 2, insert: 1 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailsToAlice()).toHaveLength(before);
    expect(await ledger.get('stmt-1:r1', 'email')).toMatchObject({ status: 'sent', sends: 1, possible_duplicates: 0 });
  });
});
