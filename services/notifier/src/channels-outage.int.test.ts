import { eventually } from '@faxnotify/peers';
import type { XmppAdapter } from './channels/xmpp/adapter';
import { useChannelPeers } from './testing/channels';

/** XMPP notices while the XMPP server restarts under load: none is lost, none comes twice. */

const peers = useChannelPeers('notifier-channels-outage', ['rita']);
const { final, xmppUsers } = peers;

describe('Prosody restarted while 200 results flow', () => {
  it('delivers every XMPP notice once', async () => {
    const RESULTS = 200;
    await peers.saveConfirmed('rita', { xmpp: 'rita@localhost' });
    const rita = xmppUsers.get('rita')!;
    const adapter = peers.notifier.adapters.get('xmpp') as XmppAdapter;
    const connectionsBefore = adapter.connections;
    const sendsBefore = { ...adapter.sends };
    const started = performance.now();
    let restartedAt = 0;
    let receivedAtRestart = 0;
    const publishing = (async () => {
      for (let i = 0; i < RESULTS; i++) {
        await peers.bus.publish('delivery.recipient.final', final(`rita-${String(i).padStart(3, '0')}`, 'rita', { subject: `Batch ${i}` }));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await eventually(() => rita.messages.length >= 50, 15_000, 5);
    receivedAtRestart = rita.messages.length;
    restartedAt = performance.now() - started;
    await peers.prosody.restart();
    await publishing;
    await eventually(() => new Set(rita.messages.map((m) => m.id)).size >= RESULTS, 40_000, 50);
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const ids = rita.messages.map((m) => m.id!);
    const distinct = new Set(ids);
    const bodies = new Set(rita.messages.map((m) => m.body.split('\n')[0]));
    let sends = 0;
    for (let i = 0; i < RESULTS; i++) sends += (await peers.notifier.ledger.get(`rita-${String(i).padStart(3, '0')}:r1`, 'xmpp'))!.sends;
    const ritaOutcomes = new Map<string, string>();
    for (const o of peers.collector.outcomes.filter((o) => o.ownerId === 'rita')) ritaOutcomes.set(o.faxId, o.outcome);
    const figures = {
      results: RESULTS,
      receivedBeforeRestart: receivedAtRestart,
      restartAtMs: Math.round(restartedAt),
      received: ids.length,
      distinct: distinct.size,
      duplicates: ids.length - distinct.size,
      storedOfflineAndDelivered: rita.messages.filter((m) => m.delayStamp).length,
      ledgerAttempts: sends,
      confirmedByServer: adapter.sends.confirmed - sendsBefore.confirmed,
      refusedWhileDisconnected: adapter.sends.offline - sendsBefore.offline,
      lostUnconfirmed: adapter.sends.unconfirmed - sendsBefore.unconfirmed,
      notifierReconnections: adapter.connections - connectionsBefore,
      userReconnections: rita.onlineCount - 1,
      outcomesDelivered: [...ritaOutcomes.values()].filter((o) => o === 'delivered').length,
      outcomesSentOnly: [...ritaOutcomes.values()].filter((o) => o === 'sent').length,
      totalMs: Math.round(performance.now() - started),
    };
    process.stdout.write(`${JSON.stringify({ xmppRestart: figures })}\n`);
    expect(distinct.size).toBe(RESULTS);
    expect(bodies.size).toBe(RESULTS);
    expect(ids.length).toBe(RESULTS);
    expect(figures.notifierReconnections).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
